#!/usr/bin/env bash
# install-gonb.sh — installs the GoNB Jupyter kernel and its helper tools, pinned.
#
# One source of truth: CI (.ci/install.sh) and the Docker image (Dockerfile) both run
# this script, so the kernel that CI exercises is the kernel users get.
#
# What it does (idempotent: already-installed pinned versions are kept):
#   1. goimports (golang.org/x/tools ${GOIMPORTS_VERSION}) and gopls (${GOPLS_VERSION})
#      into ${GONB_BIN_DIR}: GoNB needs both on PATH.
#   2. gonb itself, built from the project module, so its version is the one pinned by
#      the `tool github.com/janpfeifer/gonb` line of go.mod (v0.11.5).
#   3. `gonb --install` registers the kernel under ${JUPYTER_DATA_DIR:-~/.local/share/jupyter}/kernels/gonb.
#      With GONB_RAW_ERROR=1 the kernel is registered with --raw_error (plain-text
#      errors, what headless nbconvert runs want).
#
# Environment (all optional):
#   GONB_BIN_DIR       where binaries go (default: $(go env GOPATH)/bin)
#   GOIMPORTS_VERSION  default v0.44.0
#   GOPLS_VERSION      default v0.23.0 (v0.24 needs Go 1.27)
#   GONB_RAW_ERROR     1 to register the kernel with --raw_error
#   GONB_GO_WORK       a directory (the project) that every new notebook's go.work
#                      uses from the start (gonb --go_work); the Docker image sets it so
#                      notebooks created in JupyterLab import pkg/ without a set-up cell
#   JUPYTER_DATA_DIR   Jupyter data dir where the kernelspec is written
#   PROJECT_DIR        the project module (default: the parent of this script's dir)
set -euo pipefail

GOIMPORTS_VERSION="${GOIMPORTS_VERSION:-v0.44.0}"
GOPLS_VERSION="${GOPLS_VERSION:-v0.23.0}"
PROJECT_DIR="${PROJECT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# The project's go.mod needs the toolchain it names (run alone, this script has no .ci/env.sh).
if [[ "${GOTOOLCHAIN:-local}" == local ]]; then
  GOTOOLCHAIN="$(sed -n 's/^toolchain //p' "${PROJECT_DIR}/go.mod")"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
fi
GONB_BIN_DIR="${GONB_BIN_DIR:-$(go env GOPATH)/bin}"
mkdir -p "${GONB_BIN_DIR}"
export PATH="${GONB_BIN_DIR}:${PATH}"

log() { printf '[install-gonb] %s\n' "$*" >&2; }

# installed_version BIN MODULE prints the version of MODULE recorded in the Go binary BIN
# (as main module or as dependency; "" if BIN is absent).
installed_version() {
  local bin="$1" module="$2"
  [[ -x "${bin}" ]] || return 0
  go version -m "${bin}" 2>/dev/null |
    awk -v m="${module}" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

# go_install_pinned NAME PKG MODULE VERSION
# Installs PKG@VERSION as ${GONB_BIN_DIR}/NAME. If the Go proxy refuses a direct
# `go install pkg@version`, falls back to a throw-away module with `go get -tool`,
# never touching the project's go.mod.
go_install_pinned() {
  local name="$1" pkg="$2" module="$3" version="$4"
  local have
  have="$(installed_version "${GONB_BIN_DIR}/${name}" "${module}")"
  if [[ "${have}" == "${version}" ]]; then
    log "${name} ${version} already installed"
    return 0
  fi
  log "installing ${name} ${version} (found: '${have:-none}')"
  if (cd / && GOFLAGS= GOBIN="${GONB_BIN_DIR}" go install "${pkg}@${version}"); then
    return 0
  fi
  log "go install ${pkg}@${version} failed; trying a temporary tool module"
  local tmp
  tmp="$(mktemp -d)"
  (
    cd "${tmp}"
    go mod init cmemae.local/tools >/dev/null 2>&1
    GOFLAGS= go get -tool "${module}@${version}"
    GOFLAGS= go build -o "${GONB_BIN_DIR}/${name}" "${pkg}"
  )
  rm -rf "${tmp}"
}

go_install_pinned goimports golang.org/x/tools/cmd/goimports golang.org/x/tools "${GOIMPORTS_VERSION}"
go_install_pinned gopls golang.org/x/tools/gopls golang.org/x/tools/gopls "${GOPLS_VERSION}"

# GoNB at the version pinned by the project's go.mod (tool directive).
GONB_VERSION="$(cd "${PROJECT_DIR}" && go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)"
if [[ "$(installed_version "${GONB_BIN_DIR}/gonb" github.com/janpfeifer/gonb)" == "${GONB_VERSION}" ]]; then
  log "gonb ${GONB_VERSION} already installed"
else
  log "building gonb ${GONB_VERSION} from the project module"
  (cd "${PROJECT_DIR}" && go build -o "${GONB_BIN_DIR}/gonb" github.com/janpfeifer/gonb)
fi

install_args=(--install)
if [[ "${GONB_RAW_ERROR:-0}" == "1" ]]; then
  install_args+=(--raw_error)
fi
if [[ -n "${GONB_GO_WORK:-}" ]]; then
  install_args+=("--go_work=${GONB_GO_WORK}")
fi
log "registering the GoNB kernel (JUPYTER_DATA_DIR=${JUPYTER_DATA_DIR:-default}) with ${install_args[*]}"
"${GONB_BIN_DIR}/gonb" "${install_args[@]}" 2>&1 | sed 's/^/[gonb] /' >&2
kernel_json="${JUPYTER_DATA_DIR:-${HOME}/.local/share/jupyter}/kernels/gonb/kernel.json"
if [[ ! -s "${kernel_json}" ]]; then
  log "ERROR: ${kernel_json} was not written"
  exit 1
fi
log "kernel: $(cat "${kernel_json}")"
