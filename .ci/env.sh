# env.sh — sourced by the CI scripts (and by humans: `source .ci/env.sh`) to get the CI
# PATH and the private Jupyter data dir where the GoNB kernel is registered.
# go.mod needs Go 1.27; machines whose go command ignores go.mod's toolchain line
# (GOTOOLCHAIN=local in their go.env) fetch it from the module proxy with this (~10 s once).
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
CMEMAE_CI_DIR="${CMEMAE_CI_DIR:-${TMPDIR:-/tmp}/cmemae-ci}"
CMEMAE_CI_BIN="${CMEMAE_CI_DIR}/bin"
export CMEMAE_CI_DIR CMEMAE_CI_BIN
export JUPYTER_DATA_DIR="${JUPYTER_DATA_DIR:-${CMEMAE_CI_DIR}/jupyter}"
# Debian's Jupyter lives in /usr/bin; pyenv's python3 (first on some PATHs) has no Jupyter.
# CMEMAE_SYSTEM_BIN (default /usr/bin) is where the Debian packages' commands appear;
# .ci/check-fresh.sh points it at a directory without them to simulate a fresh machine.
export CMEMAE_SYSTEM_BIN="${CMEMAE_SYSTEM_BIN:-/usr/bin}"
export PATH="${CMEMAE_CI_BIN}:$(go env GOROOT)/bin:${PATH}:${CMEMAE_SYSTEM_BIN}"
mkdir -p "${CMEMAE_CI_BIN}" "${JUPYTER_DATA_DIR}"
export PYDEVD_DISABLE_FILE_VALIDATION=1
