# shellcheck shell=bash
# pjrt-env.sh — sourced (bash) by the Docker image's entry point and by .ci/gpu-check.sh:
# finds the XLA PJRT plugins (CPU, CUDA) and the NVIDIA CUDA libraries, and exports the
# environment go-xla (v0.4.13) needs to use them without downloading anything.
#
#   source .ci/pjrt-env.sh            # report on stderr, never fails
#   pjrt_env_require cuda || exit 1   # then: fail clearly unless the CUDA plugin was found
#
# How go-xla v0.4.13 looks for plugins (github.com/gomlx/go-xla/pjrt): in the directories
# of $PJRT_PLUGIN_LIBRARY_PATH (":"-separated; when set, nothing else), else in
# ~/.local/lib/go-xla{,/nvidia}, /usr/local/lib/go-xla{,/nvidia}, $LD_LIBRARY_PATH and
# /etc/ld.so.conf; only files named pjrt_c_api_<name>_plugin.so (or pjrt[-_]plugin[-_]<name>.so)
# count, <name> being the backend's plugin name ("cpu", "cuda"); a CUDA plugin is skipped
# unless /dev/nvidia* or nvidia-smi shows a GPU. After loading the CUDA plugin it expects
# the NVIDIA libraries in the nvidia/ directory beside the plugin's directory
# (dirname(dirname(plugin))/nvidia; its installer puts the plugin itself into that nvidia/)
# and sets XLA_FLAGS=--xla_gpu_cuda_data_dir=<that nvidia/> (ptxas, libdevice) unless
# XLA_FLAGS already names a data dir. Nothing is downloaded: the project's backend choice
# (pkg/backend) disables go-xla's implicit auto-install and only installs when no plugin
# is found and GOMLX_NO_AUTO_INSTALL is unset; this script sets GOMLX_NO_AUTO_INSTALL=1.
#
# Where plugins are looked for, first found wins:
#   CUDA: $CMEMAE_PJRT_DIRS (":"-separated directories), $PJRT_PLUGIN_LIBRARY_PATH,
#         ~/.local/lib/go-xla/nvidia, /usr/local/lib/go-xla/nvidia (the installer's layout,
#         the Docker image's), then the Python packages of ${CMEMAE_PYTHON:-python3}:
#         jax-cuda13-pjrt's jax_plugins/xla_cuda13/xla_cuda_plugin.so with the nvidia-*
#         wheels' site-packages/nvidia/. That file name is not one go-xla recognises, so a
#         link directory in the installer's layout is made for it:
#         ${CMEMAE_PJRT_LINK_DIR:-${TMPDIR:-/tmp}/cmemae-pjrt-<uid>}/nvidia/ holding
#         pjrt_c_api_cuda_plugin.so -> the wheel's plugin, one link per site-packages/nvidia/<pkg>,
#         bin/ptxas and nvvm/ (from cu13/ or cuda_nvcc/; else from $CUDA_HOME or
#         /usr/local/cuda, ptxas on PATH, or Triton's bundled ptxas and libdevice).
#   CPU:  the same directories without nvidia/ (pjrt_c_api_cpu_plugin.so).
#
# Exports: PJRT_PLUGIN_LIBRARY_PATH (the directories found), LD_LIBRARY_PATH (prefixed with
# every nvidia/*/lib directory), XLA_FLAGS (--xla_gpu_cuda_data_dir, unless set),
# GOMLX_NO_AUTO_INSTALL=1, CMEMAE_PJRT_CPU and CMEMAE_PJRT_CUDA (plugin paths, "" if none),
# CMEMAE_PJRT_NVIDIA (the nvidia/ directory, "" if none).
# Uses only bash built-ins, plus mkdir/ln/rm/readlink for the link directory and the Python interpreter
# when the Python packages are searched.

pjrt_env_log() { echo "[pjrt-env] $*" >&2; }

# pjrt_env_first_file GLOB...: prints the first existing file matching the globs.
pjrt_env_first_file() {
  local g f
  for g in "$@"; do
    for f in $g; do
      if [[ -f "${f}" ]]; then
        echo "${f}"
        return 0
      fi
    done
  done
  return 1
}

# pjrt_env_link_wheels PLUGIN NVIDIA_SRC: builds the installer-layout link directory for
# the pip layout and prints its nvidia/ path.
pjrt_env_link_wheels() {
  local plugin="$1" src="$2"
  local dir="${CMEMAE_PJRT_LINK_DIR:-${TMPDIR:-/tmp}/cmemae-pjrt-${UID:-0}}/nvidia"
  mkdir -p "${dir}/bin" || return 1
  ln -sfn "${plugin}" "${dir}/pjrt_c_api_cuda_plugin.so" || return 1
  local p name
  if [[ -n "${src}" ]]; then
    for p in "${src}"/*; do
      [[ -d "${p}" ]] || continue
      name="${p##*/}"
      [[ "${name}" == bin || "${name}" == __pycache__ ]] && continue
      ln -sfn "${p}" "${dir}/${name}" || return 1
    done
  fi
  pjrt_env_link_cuda_tools "${dir}" "${src}" || return 1
  echo "${dir}"
}

# pjrt_env_link_cuda_tools DIR NVIDIA_SRC: XLA compiles its kernels with ptxas and
# libdevice, looked for in the CUDA data dir (DIR). Each is linked from the first place
# that has it: the nvidia-* wheels (NVIDIA_SRC/{cu13,cu12,cuda_nvcc}, from the
# nvidia-cuda-nvcc wheel), the system CUDA toolkit (${CUDA_HOME:-/usr/local/cuda}; ptxas
# also on PATH), Triton's bundled copies (site-packages/triton/backends/nvidia/{bin/ptxas,
# lib/libdevice.10.bc}).
pjrt_env_link_cuda_tools() {
  local dir="$1" src="$2" p
  local cuda="${CUDA_HOME:-${CUDA_PATH:-/usr/local/cuda}}" triton="${2:+${2%/*}/triton/backends/nvidia}"
  local -a kits=()
  [[ -n "${src}" ]] && kits=("${src}/cu13" "${src}/cu12" "${src}/cuda_nvcc")
  kits+=("${cuda}")
  # "${kits[@]/%//bin/ptxas}": each kit with /bin/ptxas appended.
  for p in "${kits[@]/%//bin/ptxas}" "$(command -v ptxas 2>/dev/null)" "${triton:+${triton}/bin/ptxas}"; do
    if [[ -n "${p}" && -x "${p}" ]]; then
      ln -sfn "$(pjrt_env_abs "${p}")" "${dir}/bin/ptxas" || return 1
      break
    fi
  done
  for p in "${kits[@]/%//nvvm}"; do
    if [[ -f "${p}/libdevice/libdevice.10.bc" ]]; then
      rm -rf "${dir}/nvvm" && ln -sfn "$(pjrt_env_abs "${p}")" "${dir}/nvvm" || return 1
      return 0
    fi
  done
  if [[ -n "${triton}" && -f "${triton}/lib/libdevice.10.bc" ]]; then
    rm -rf "${dir}/nvvm" && mkdir -p "${dir}/nvvm/libdevice" &&
      ln -sfn "$(pjrt_env_abs "${triton}/lib/libdevice.10.bc")" "${dir}/nvvm/libdevice/libdevice.10.bc" || return 1
  fi
}

# pjrt_env_abs PATH: PATH when absolute, else resolved (a relative CUDA_HOME or PATH entry).
pjrt_env_abs() {
  if [[ "$1" == /* ]]; then
    echo "$1"
  else
    readlink -f "$1"
  fi
}

# pjrt_env_python_paths: prints the Python interpreter's sys.path directories.
pjrt_env_python_paths() {
  local py="${CMEMAE_PYTHON:-python3}"
  command -v "${py}" >/dev/null 2>&1 || return 1
  local -a limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 30)
  "${limit[@]}" "${py}" -c 'import sys; print("\n".join(p for p in sys.path if p))' 2>/dev/null
}

pjrt_env_find() {
  CMEMAE_PJRT_CPU="" CMEMAE_PJRT_CUDA="" CMEMAE_PJRT_NVIDIA=""
  local -a dirs=()
  local d IFS_save="${IFS}"
  IFS=:
  for d in ${CMEMAE_PJRT_DIRS:-} ${PJRT_PLUGIN_LIBRARY_PATH:-}; do
    [[ -n "${d}" ]] && dirs+=("${d}")
  done
  IFS="${IFS_save}"
  dirs+=("${HOME:-/nonexistent}/.local/lib/go-xla" "/usr/local/lib/go-xla")

  # Installer layout (and explicit directories).
  local f
  for d in "${dirs[@]}"; do
    if [[ -z "${CMEMAE_PJRT_CUDA}" ]] && f="$(pjrt_env_first_file "${d}/pjrt_c_api_cuda_plugin.so" "${d}/nvidia/pjrt_c_api_cuda_plugin.so")"; then
      CMEMAE_PJRT_CUDA="${f}"
    fi
    if [[ -z "${CMEMAE_PJRT_CPU}" ]] && f="$(pjrt_env_first_file "${d}/pjrt_c_api_cpu_plugin.so")"; then
      CMEMAE_PJRT_CPU="${f}"
    fi
  done

  # Python packages (jax-cuda13-pjrt + nvidia-* wheels).
  if [[ -z "${CMEMAE_PJRT_CUDA}" ]]; then
    local py_paths sp wheel="" nvsrc=""
    if py_paths="$(pjrt_env_python_paths)"; then
      while IFS= read -r sp; do
        [[ -d "${sp}" ]] || continue
        if [[ -z "${wheel}" ]] && f="$(pjrt_env_first_file "${sp}/jax_plugins/xla_cuda13/xla_cuda_plugin.so" "${sp}/jax_plugins/xla_cuda*/xla_cuda_plugin.so")"; then
          wheel="${f}"
          [[ -d "${sp}/nvidia" ]] && nvsrc="${sp}/nvidia"
        fi
        if [[ -z "${nvsrc}" && -d "${sp}/nvidia" ]]; then
          nvsrc="${sp}/nvidia"
        fi
      done <<<"${py_paths}"
      if [[ -n "${wheel}" ]]; then
        pjrt_env_log "Python package plugin: ${wheel}; NVIDIA wheels: ${nvsrc:-none found}"
        if d="$(pjrt_env_link_wheels "${wheel}" "${nvsrc}")"; then
          CMEMAE_PJRT_CUDA="${d}/pjrt_c_api_cuda_plugin.so"
        else
          pjrt_env_log "could not make the link directory for ${wheel} (set CMEMAE_PJRT_LINK_DIR to a writable directory)"
        fi
      fi
    else
      pjrt_env_log "no Python (${CMEMAE_PYTHON:-python3}) to search for jax-cuda*-pjrt"
    fi
  fi

  # The NVIDIA libraries: nvidia/ beside the plugin's directory (go-xla's rule).
  local pdirs=""
  if [[ -n "${CMEMAE_PJRT_CUDA}" ]]; then
    local pd="${CMEMAE_PJRT_CUDA%/*}"
    local nv="${pd%/*}/nvidia"
    [[ -d "${nv}" ]] && CMEMAE_PJRT_NVIDIA="${nv}"
    pdirs="${pd}"
    if [[ -n "${CMEMAE_PJRT_NVIDIA}" ]]; then
      local libs="" l
      for l in "${CMEMAE_PJRT_NVIDIA}"/*/lib; do
        [[ -d "${l}" ]] && libs="${libs:+${libs}:}${l}"
      done
      if [[ -n "${libs}" ]]; then
        export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
      fi
      if [[ "${XLA_FLAGS:-}" != *--xla_gpu_cuda_data_dir* ]]; then
        export XLA_FLAGS="${XLA_FLAGS:+${XLA_FLAGS} }--xla_gpu_cuda_data_dir=${CMEMAE_PJRT_NVIDIA}"
      fi
    fi
  fi
  if [[ -n "${CMEMAE_PJRT_CPU}" && "${CMEMAE_PJRT_CPU%/*}" != "${pdirs}" ]]; then
    pdirs="${pdirs:+${pdirs}:}${CMEMAE_PJRT_CPU%/*}"
  fi
  if [[ -n "${pdirs}" ]]; then
    export PJRT_PLUGIN_LIBRARY_PATH="${pdirs}"
  fi
  export GOMLX_NO_AUTO_INSTALL=1
  export CMEMAE_PJRT_CPU CMEMAE_PJRT_CUDA CMEMAE_PJRT_NVIDIA

  pjrt_env_log "CPU plugin:  ${CMEMAE_PJRT_CPU:-not found}"
  pjrt_env_log "CUDA plugin: ${CMEMAE_PJRT_CUDA:-not found}"
  if [[ -n "${CMEMAE_PJRT_CUDA}" ]]; then
    pjrt_env_log "NVIDIA libraries: ${CMEMAE_PJRT_NVIDIA:-not found (no nvidia/ beside ${CMEMAE_PJRT_CUDA%/*})}"
  fi
  if [[ -n "${CMEMAE_PJRT_NVIDIA}" ]]; then
    local tool
    for tool in bin/ptxas nvvm/libdevice/libdevice.10.bc; do
      if [[ -e "${CMEMAE_PJRT_NVIDIA}/${tool}" ]]; then
        pjrt_env_log "${tool##*/}: $(readlink -f "${CMEMAE_PJRT_NVIDIA}/${tool}")"
      else
        pjrt_env_log "WARNING: no ${tool} in ${CMEMAE_PJRT_NVIDIA} (XLA's CUDA data dir): if GPU kernels fail to compile, install the nvidia-cuda-nvcc wheel (CUDA 13) or set CUDA_HOME to a CUDA 13 toolkit"
      fi
    done
    if [[ -x "${CMEMAE_PJRT_NVIDIA}/bin/ptxas" ]]; then
      pjrt_env_log "ptxas version: $("${CMEMAE_PJRT_NVIDIA}/bin/ptxas" --version 2>&1 | tail -n 1)"
    fi
  fi
  pjrt_env_log "PJRT_PLUGIN_LIBRARY_PATH=${PJRT_PLUGIN_LIBRARY_PATH:-} XLA_FLAGS=${XLA_FLAGS:-} GOMLX_NO_AUTO_INSTALL=1"
  return 0
}

# pjrt_env_require cpu|cuda: fails, saying what is missing and where it was looked for,
# unless that plugin (and, for cuda, the NVIDIA libraries) was found.
pjrt_env_require() {
  case "$1" in
    cpu)
      if [[ -z "${CMEMAE_PJRT_CPU:-}" ]]; then
        pjrt_env_log "ERROR: no PJRT CPU plugin (pjrt_c_api_cpu_plugin.so) in \$CMEMAE_PJRT_DIRS, \$PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla or /usr/local/lib/go-xla"
        return 1
      fi
      ;;
    cuda)
      if [[ -z "${CMEMAE_PJRT_CUDA:-}" ]]; then
        pjrt_env_log "ERROR: no PJRT CUDA plugin: not in \$CMEMAE_PJRT_DIRS, \$PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla/nvidia, /usr/local/lib/go-xla/nvidia, nor as jax_plugins/xla_cuda*/xla_cuda_plugin.so in the sys.path of ${CMEMAE_PYTHON:-python3} (pip install jax-cuda13-pjrt jax-cuda13-plugin)"
        return 1
      fi
      if [[ -z "${CMEMAE_PJRT_NVIDIA:-}" ]]; then
        pjrt_env_log "ERROR: CUDA plugin ${CMEMAE_PJRT_CUDA} found, but no NVIDIA libraries (nvidia/ beside ${CMEMAE_PJRT_CUDA%/*}; pip's nvidia-* CUDA 13 wheels)"
        return 1
      fi
      ;;
    *)
      pjrt_env_log "pjrt_env_require: want cpu or cuda, got '$1'"
      return 2
      ;;
  esac
}

pjrt_env_find
