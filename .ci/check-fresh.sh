#!/usr/bin/env bash
# check-fresh.sh — does `bash .ci/test.sh` pass on its first run on a fresh machine?
#
#   bash .ci/check-fresh.sh [REPO]     # REPO defaults to this script's repository
#
# The "fresh" stage of .ci/test.sh runs it (a few seconds). It guards against one class
# of bug: a stage (or the top of a script) looking up a tool — jupyter, chromium, gonb,
# the kernelspec — before the install stage had the chance to install it. On a machine
# that already has the tools such a bug is invisible; on a fresh one every notebook failed
# with "timeout: failed to run command ''".
#
# How: the real .ci/test.sh, .ci/install.sh and .ci/install-gonb.sh of a copy of REPO
# (.ci/ and notebooks/*.ipynb) run, with `env -i`, in a sandbox that looks like a machine
# without the Debian packages:
#   - PATH holds no system directory, only sandbox/sysbin: symlinks to every command in
#     /usr/local/bin, /usr/bin, /usr/sbin EXCEPT those of install.sh's APT_PACKAGES
#     (dpkg -L where installed, and jupyter*, ipython*, chromium* by name); and
#     CMEMAE_SYSTEM_BIN (see env.sh) points at it, so /usr/bin is never consulted;
#   - apt-get, dpkg-query, sudo and fuser are fakes: `apt-get install` "installs" a
#     package by recording it and, for the Jupyter and Chromium packages, by putting a
#     fake jupyter / chromium into sandbox/sysbin — so these exist only after install;
#   - go and gofmt are fakes that record their calls and build nothing (`go build -o
#     …/gonb` writes a fake gonb whose --install writes the kernelspec);
#   - the fake jupyter's nbconvert refuses to run unless the GoNB kernelspec is
#     registered in $JUPYTER_DATA_DIR, and writes the "executed" notebook.
# The check passes when test.sh exits 0 from that state, apt-get install ran, and every
# notebook went through the fake jupyter. Nothing outside the sandbox is touched, no
# package is installed or removed.
set -euo pipefail

SRC="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
SANDBOX="$(mktemp -d "${TMPDIR:-/tmp}/cmemae-fresh.XXXXXX")"
trap '[[ -n "${CMEMAE_FRESH_KEEP:-}" ]] || rm -rf "${SANDBOX}"' EXIT
REPO="${SANDBOX}/repo"
SYSBIN="${SANDBOX}/sysbin"
FAKES="${SANDBOX}/fakes"
LOG="${SANDBOX}/calls.log"
mkdir -p "${REPO}/notebooks" "${SYSBIN}" "${FAKES}" "${SANDBOX}/goroot/bin" "${SANDBOX}/home" "${SANDBOX}/dpkg"
cp -R "${SRC}/.ci" "${REPO}/.ci"

# A command named by its absolute system path would escape the sandbox below (and find
# the tool on machines that have it): the scripts go through PATH / ${CMEMAE_SYSTEM_BIN}.
if hard="$(grep -n -E '/usr/(local/)?s?bin/[a-z]' "${REPO}"/.ci/*.sh | grep -v -E '^[^:]*/check-fresh\.sh:|#!/usr/bin/env|^[^:]*:[0-9]+:[[:space:]]*#')"; then
  echo "check-fresh: FAILED: .ci scripts name system commands by absolute path; use PATH or \${CMEMAE_SYSTEM_BIN}:" >&2
  echo "${hard}" >&2
  exit 1
fi
cp "${SRC}"/notebooks/*.ipynb "${REPO}/notebooks/"
: >"${LOG}"

# The Debian packages install.sh installs, as it lists them.
mapfile -t APT_PACKAGES < <(sed -n '/^APT_PACKAGES=(/,/^)/p' "${REPO}/.ci/install.sh" | sed '1d;$d' | tr ' ' '\n' | sed '/^$/d')
if ((${#APT_PACKAGES[@]} == 0)); then
  echo "check-fresh: no APT_PACKAGES=( … ) list in .ci/install.sh" >&2
  exit 1
fi
# .ci/slurm-test.sh installs its own packages (PACKAGES=( … )): hidden too, so that it
# must install them before it looks for them; the fake daemons then fail to start and
# the stage skips (a real cluster in a sandbox is neither possible nor wanted).
mapfile -t SLURM_PACKAGES < <(sed -n 's/^PACKAGES=(\(.*\))$/\1/p' "${REPO}/.ci/slurm-test.sh" | tr ' ' '\n' | sed '/^$/d')
if ((${#SLURM_PACKAGES[@]} == 0)); then
  echo "check-fresh: no PACKAGES=( … ) list in .ci/slurm-test.sh" >&2
  exit 1
fi
declare -A hidden=()
for p in "${APT_PACKAGES[@]}" "${SLURM_PACKAGES[@]}" jupyter-core python3-jupyter-core; do
  while read -r f; do
    case "${f}" in */bin/* | */sbin/*) hidden["${f##*/}"]=1 ;; esac
  done < <(dpkg -L "${p}" 2>/dev/null || true)
done
declare -A seen=()
links=()
for d in /usr/local/bin /usr/bin /usr/sbin; do
  for f in "${d}"/*; do
    n="${f##*/}"
    case "${n}" in jupyter* | ipython* | chromium* | gonb | slurm* | munge*) continue ;; esac
    [[ -n "${hidden[${n}]:-}" || -n "${seen[${n}]:-}" || ! -x "${f}" ]] && continue
    seen["${n}"]=1
    links+=("${f}")
  done
done
ln -s -t "${SYSBIN}" "${links[@]}"

# fake NAME BODY: writes an executable fake command into the fakes directory.
fake() {
  printf '#!/usr/bin/env bash\n# fake %s (check-fresh.sh)\necho "%s $*" >>"%s"\n%s\n' "$1" "$1" "${LOG}" "$2" >"${FAKES}/$1"
  chmod +x "${FAKES}/$1"
}

fake sudo 'while [[ "$1" == -* ]]; do shift; done; exec "$@"'
fake id 'echo 0' # the sandbox runs as root, as CI does (scripts only ask id -u)
fake fuser 'exit 1'
fake dpkg-query "for a in \"\$@\"; do p=\"\$a\"; done
[[ -f '${SANDBOX}/dpkg/'\"\$p\" ]] || { echo \"dpkg-query: no packages found matching \$p\" >&2; exit 1; }
printf 'install ok installed'"
# apt-get install puts the packages' commands into sysbin (where /usr/bin would have them).
cat >"${SANDBOX}/fake-jupyter" <<EOF
#!/usr/bin/env bash
echo "jupyter \$*" >>"${LOG}"
case "\$1" in
kernelspec) ls "\${JUPYTER_DATA_DIR}/kernels" ;;
nbconvert)
  [[ -s "\${JUPYTER_DATA_DIR}/kernels/gonb/kernel.json" ]] || { echo "fake jupyter: no such kernel named gonb in \${JUPYTER_DATA_DIR}" >&2; exit 1; }
  out=""; nb=""
  while (( \$# )); do case "\$1" in --output-dir) out="\$2"; shift ;; *.ipynb) nb="\$1" ;; esac; shift; done
  cp "\${nb}" "\${out}/\$(basename "\${nb}")"
  echo "jupyter executed \${nb}" >>"${LOG}"
  ;;
*) echo "fake jupyter: unexpected \$*" >&2; exit 1 ;;
esac
EOF
chmod +x "${SANDBOX}/fake-jupyter"
fake apt-get "[[ \"\$*\" == *install* ]] || exit 0
# standin NAME: a command that fails, as a new file (rm first: never write through a
# link into the real system, e.g. Debian's /usr/sbin/slurmctld → /etc/alternatives/…).
standin() { rm -f '${SYSBIN}/'\$1; printf '#!/bin/sh\\nexit 1\\n' >'${SYSBIN}/'\$1; chmod +x '${SYSBIN}/'\$1; }
for p in \"\$@\"; do
  case \"\$p\" in -* | install | env | DEBIAN_FRONTEND=*) continue ;; esac
  touch '${SANDBOX}/dpkg/'\"\$p\"
  case \"\$p\" in
  jupyter-* | python3-nbclient | python3-ipykernel) rm -f '${SYSBIN}/jupyter'; cp '${SANDBOX}/fake-jupyter' '${SYSBIN}/jupyter' ;;
  chromium) rm -f '${SYSBIN}/chromium'; printf '#!/bin/sh\nexit 0\n' >'${SYSBIN}/chromium'; chmod +x '${SYSBIN}/chromium' ;;
  munge) for c in munged munge unmunge; do standin \$c; done ;;
  slurmctld | slurmd) standin \$p ;;
  slurm-client) for c in sbatch squeue sinfo scancel scontrol; do standin \$c; done ;;
  esac
done"
fake gofmt 'exit 0'
fake go "case \"\$1\" in
env) case \"\$2\" in GOROOT) echo '${SANDBOX}/goroot' ;; GOPATH) echo '${SANDBOX}/home/go' ;; *) echo '' ;; esac ;;
list) echo v0.0.0-fake ;;
install) mkdir -p \"\${GOBIN}\"; for a in \"\$@\"; do case \"\$a\" in *@*) n=\"\${a%@*}\"; printf '#!/bin/sh\nexit 0\n' >\"\${GOBIN}/\${n##*/}\"; chmod +x \"\${GOBIN}/\${n##*/}\" ;; esac; done ;;
build)
  out=''; prev=''
  for a in \"\$@\"; do [[ \"\$prev\" == -o ]] && out=\"\$a\"; prev=\"\$a\"; done
  if [[ \"\$out\" == */gonb ]]; then
    printf '#!/usr/bin/env bash\nmkdir -p \"\${JUPYTER_DATA_DIR:-\$HOME/.local/share/jupyter}/kernels/gonb\"\necho {\\\\\"argv\\\\\":[\\\\\"gonb\\\\\"]} >\"\${JUPYTER_DATA_DIR:-\$HOME/.local/share/jupyter}/kernels/gonb/kernel.json\"\n' >\"\$out\"
    chmod +x \"\$out\"
  fi ;;
*) exit 0 ;;
esac"
ln -s "${FAKES}/go" "${SANDBOX}/goroot/bin/go"
ln -s "${FAKES}/gofmt" "${SANDBOX}/goroot/bin/gofmt"

# gpucheck is skipped: it builds Go binaries (the fake go builds nothing) and uses no
# Debian package that it does not probe for first (PyTorch is optional there);
# gpuresume, which continues gpucheck's output, is skipped with it.
echo "check-fresh: running .ci/test.sh in ${SANDBOX} (no Jupyter, no Chromium; apt-get and go are fakes)"
set +e
env -i HOME="${SANDBOX}/home" PATH="${FAKES}:${SYSBIN}" TERM=dumb LANG=C.UTF-8 \
  TMPDIR="${SANDBOX}" CMEMAE_CI_DIR="${SANDBOX}/ci" CMEMAE_SYSTEM_BIN="${SYSBIN}" CMEMAE_SYSTEM_SBIN="${SYSBIN}" \
  CMEMAE_SKIP="fresh gpucheck" bash "${REPO}/.ci/test.sh" >"${SANDBOX}/test.log" 2>&1
rc=$?
set -e

fail() {
  echo "check-fresh: FAILED: $*" >&2
  echo "--- test.sh output (last 40 lines):" >&2
  tail -n 40 "${SANDBOX}/test.log" >&2
  exit 1
}
((rc == 0)) || fail "bash .ci/test.sh exited ${rc} on a machine without the Debian packages"
grep -q '^apt-get .*install' "${LOG}" || fail "the install stage never ran apt-get install"
grep -q "^apt-get .*install.* ${SLURM_PACKAGES[0]}" "${LOG}" || fail "the slurm stage never ran apt-get install ${SLURM_PACKAGES[*]}"
# Every notebook once on the quick budget, then those that open on the shipped results
# (.ci/shipped-notebooks.sh) again: on the cpu budget's and on the full budget's.
# shellcheck source=shipped-notebooks.sh
source "${REPO}/.ci/shipped-notebooks.sh"
# shellcheck disable=SC2086 # the globs expand here
want=$(cd "${REPO}/notebooks" && ls ./*.ipynb ${CMEMAE_SHIPPED_CPU_NOTEBOOKS} ${CMEMAE_SHIPPED_FULL_NOTEBOOKS} | wc -l)
got=$(grep -c '^jupyter executed ' "${LOG}" || true)
((got == want)) || fail "${got} of ${want} notebook executions went through jupyter nbconvert"
echo "check-fresh: ok — test.sh passed its first run without pre-installed tools (${got} notebook executions, apt-get install: $(grep -m1 '^apt-get .*install' "${LOG}" | cut -d' ' -f2- | tr -s ' '))"
