#!/usr/bin/env bash
# docker-entrypoint.sh — entry point of the Docker image: picks the GoMLX backend,
# then runs the command (JupyterLab by default).
#
# GOMLX_BACKEND, unless set by the user (docker run -e GOMLX_BACKEND=...):
#   xla:cuda  when nvidia-smi lists a GPU (docker run --gpus all ...)
#   xla:cpu   otherwise
# CMEMAE_BUDGET (the notebooks' budget switch), unless set: "full" (thesis scale) with
# a GPU, "quick" without.
# Both PJRT plugins were installed at build time in /usr/local/lib/go-xla; pjrt-env.sh
# (the discovery .ci/gpu-check.sh uses too, copied beside this script) finds them and the
# NVIDIA libraries and exports PJRT_PLUGIN_LIBRARY_PATH, LD_LIBRARY_PATH, XLA_FLAGS and
# GOMLX_NO_AUTO_INSTALL=1, which keeps GoMLX from downloading anything at run time.
set -euo pipefail

has_gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  has_gpu=1
fi
if [[ -z "${GOMLX_BACKEND:-}" ]]; then
  if ((has_gpu)); then GOMLX_BACKEND="xla:cuda"; else GOMLX_BACKEND="xla:cpu"; fi
  export GOMLX_BACKEND
fi
if [[ -z "${CMEMAE_BUDGET:-}" ]]; then
  if ((has_gpu)); then CMEMAE_BUDGET="full"; else CMEMAE_BUDGET="quick"; fi
  export CMEMAE_BUDGET
fi
echo "[cmemae] GOMLX_BACKEND=${GOMLX_BACKEND} CMEMAE_BUDGET=${CMEMAE_BUDGET}" >&2

pjrt_env="${BASH_SOURCE[0]%/*}/pjrt-env.sh"
if [[ -f "${pjrt_env}" ]]; then
  # shellcheck source=pjrt-env.sh
  source "${pjrt_env}"
  if ((has_gpu)) && [[ "${GOMLX_BACKEND}" == xla:cuda* && -z "${CMEMAE_PJRT_CUDA}" ]]; then
    echo "[cmemae] warning: a GPU is visible but no PJRT CUDA plugin was found; GOMLX_BACKEND=${GOMLX_BACKEND} will fail" >&2
  fi
else
  echo "[cmemae] warning: ${pjrt_env} missing: PJRT plugins left to go-xla's default search" >&2
  export GOMLX_NO_AUTO_INSTALL=1
fi

# The results and data volumes may be fresh host directories: make sure we can write.
for d in "${CMEMAE_DATA_DIR:-}" "${CMEMAE_HOME:-}/results"; do
  if [[ -n "${d}" && "${d}" != /results && -d "${d}" && ! -w "${d}" ]]; then
    echo "[cmemae] warning: ${d} is not writable by $(id -un) (uid $(id -u)); mount it with matching ownership" >&2
  fi
done

exec "$@"
