# env.sh — sourced by the CI scripts (and by humans: `source .ci/env.sh`) to get the CI
# PATH and the private Jupyter data dir where the GoNB kernel is registered.
# go.mod needs Go 1.27; machines whose go command ignores go.mod's toolchain line
# (GOTOOLCHAIN=local in their go.env or environment) fetch the toolchain go.mod names
# from the module proxy (~10 s once).
if [[ "${GOTOOLCHAIN:-local}" == local ]]; then
  GOTOOLCHAIN="$(sed -n 's/^toolchain //p' "$(dirname "${BASH_SOURCE[0]}")/../go.mod")"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
fi
CMEMAE_CI_DIR="${CMEMAE_CI_DIR:-${TMPDIR:-/tmp}/cmemae-ci}"
CMEMAE_CI_BIN="${CMEMAE_CI_DIR}/bin"
export CMEMAE_CI_DIR CMEMAE_CI_BIN
export JUPYTER_DATA_DIR="${JUPYTER_DATA_DIR:-${CMEMAE_CI_DIR}/jupyter}"
# Debian's Jupyter lives in /usr/bin; pyenv's python3 (first on some PATHs) has no Jupyter.
# CMEMAE_SYSTEM_BIN (default /usr/bin) is where the Debian packages' commands appear;
# .ci/check-fresh.sh points it at a directory without them to simulate a fresh machine.
export CMEMAE_SYSTEM_BIN="${CMEMAE_SYSTEM_BIN:-/usr/bin}"
CMEMAE_GOROOT="$(go env GOROOT)" || return 1 # (the toolchain download failed: its error is above)
export PATH="${CMEMAE_CI_BIN}:${CMEMAE_GOROOT}/bin:${PATH}:${CMEMAE_SYSTEM_BIN}"
mkdir -p "${CMEMAE_CI_BIN}" "${JUPYTER_DATA_DIR}"
export PYDEVD_DISABLE_FILE_VALIDATION=1
