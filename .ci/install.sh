#!/usr/bin/env bash
# install.sh — installs everything the project's tests need on a fresh Debian (bookworm)
# machine that already has Go. Idempotent: run it as often as you like.
#
#   - Debian packages: headless Jupyter (nbconvert, nbclient, jupyter-client, classic
#     Notebook, ipykernel), Fashion-MNIST, Chromium (browser test), curl, gcc (cgo).
#   - GoNB + goimports + gopls, pinned, and the GoNB kernel registered in
#     ${JUPYTER_DATA_DIR} — through .ci/install-gonb.sh, the same script the Dockerfile runs.
#   - The modules of the project and of its checks, .ci/repocheck (`go mod download`).
#
# Environment: CMEMAE_CI_DIR (default ${TMPDIR:-/tmp}/cmemae-ci) holds CI state outside
# the repository: bin/ (gonb, goimports, gopls) and jupyter/ (private JUPYTER_DATA_DIR).
# `source .ci/env.sh` to get the same PATH / JUPYTER_DATA_DIR in a shell.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=env.sh
source "${REPO}/.ci/env.sh"

log() { printf '[install] %s\n' "$*" >&2; }

# gcc and libc6-dev: cgo, for the XLA backend and the GPU check's binaries; xz-utils: the
# GPU check packs its binaries with xz.
APT_PACKAGES=(
  jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook python3-ipykernel
  dataset-fashion-mnist chromium curl ca-certificates gcc libc6-dev xz-utils
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("${p}")
  fi
done
if ((${#missing[@]} > 0)); then
  log "apt-get install ${missing[*]}"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo); fi
  # Wait for a concurrent apt/dpkg run (e.g. unattended upgrades) to finish.
  for _ in $(seq 1 120); do
    if ! fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; then break; fi
    sleep 5
  done
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages already installed"
fi

# GoNB, goimports, gopls and the kernelspec (raw text errors: headless runs parse them).
GONB_BIN_DIR="${CMEMAE_CI_BIN}" GONB_RAW_ERROR=1 PROJECT_DIR="${REPO}" \
  bash "${REPO}/.ci/install-gonb.sh"

log "go mod download"
(cd "${REPO}" && go mod download)
(cd "${REPO}/.ci/repocheck" && go mod download) # the repository checks' own module

log "jupyter kernelspecs:"
jupyter kernelspec list >&2
