#!/usr/bin/env bash
# test.sh — the project's one test command (CI runs it through .ci/run):
#
#   bash .ci/test.sh
#
# Stages (each timed; all run even when one fails, the exit status says whether any did):
#   0. fresh     .ci/check-fresh.sh: this script, run in a sandbox without Jupyter or
#                Chromium (fake apt-get and go, a few seconds), must pass on its first
#                run: no tool is looked up before the install stage could install it
#   1. install   .ci/install.sh: Debian's Jupyter + Chromium, GoNB kernel, modules
#   2. gofmt     fails if `gofmt -l` lists files
#   3. vet       go vet ./... (and the modules .ci/pjrt-install, whose test also runs, and .ci/repocheck)
#   4. simd/test GOMLX_BACKEND=go go test ./...   (GOEXPERIMENT=simd when it builds)
#      fuzz      every Fuzz target (IDX, CIFAR, checkpoints, memory_change.csv, overrides, experiment YAML)
#                for CMEMAE_FUZZTIME (3s) each, from its corpus under testdata/fuzz
#      repocheck the repository checks' own module, .ci/repocheck: Dockerfile,
#                entrypoint, notebook set-up (its go.mod keeps CI-only dependencies,
#                BuildKit's parser and chromedp, out of the project's)
#   5. notebooks every notebooks/*.ipynb executed headless (CMEMAE_BUDGET=quick) into
#                notebooks/executed/ (gitignored) with jupyter nbconvert; results in a
#                fresh ${CMEMAE_CI_DIR}/results, so the notebooks train
#   6. nbcheck   .ci/repocheck checks the executed notebooks (errors, figures)
#      shipped   notebooks 01-04 executed on the shipped cpu-budget results with training
#                forbidden (CMEMAE_BUDGET=cpu CMEMAE_NO_TRAIN=1, empty results directory)
#                into notebooks/executed/shipped/, and 02-04 on the shipped full-budget
#                results (CMEMAE_BUDGET=full) into notebooks/executed/shipped-full/;
#                shipcheck checks them as nbcheck does
#   7. browser   classic Jupyter Notebook + GoNB + headless Chromium run 00_quickstart and
#                drive 05_playground's widgets; Chromium alone switches 04's executed
#                checkpoint picker; screenshots in notebooks/executed/
#   8. slurm     .ci/slurm-test.sh: a 4-task job array on a real single-node Slurm cluster
#   9. gpucheck  .ci/gpu-check.sh rehearsed on the CPU (GPU_CHECK_BACKEND=go, tiny budget);
#      gpuresume a second rehearsal continuing the first (GPU_CHECK_RESUME_FROM) with one
#                run cut back to a stop and no checkpoints archive
#
# Environment: CMEMAE_SKIP="browser notebooks" skips stages by name;
# CMEMAE_NOTEBOOK_TIMEOUT (seconds per cell, default 600: quick-budget cells take a few
# minutes at most, and a hung cell must not eat the CI budget); CMEMAE_NOTEBOOK_WALL
# (seconds per notebook, default 1500).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO}"
# shellcheck source=env.sh
source "${REPO}/.ci/env.sh"

export GOMLX_BACKEND=go
export CMEMAE_BUDGET=quick
EXECUTED="${REPO}/notebooks/executed"
NOTEBOOK_TIMEOUT="${CMEMAE_NOTEBOOK_TIMEOUT:-600}"
NOTEBOOK_WALL="${CMEMAE_NOTEBOOK_WALL:-1500}"
# Fresh results for the notebooks, so they really train (they load results they find).
NOTEBOOK_RESULTS="${CMEMAE_CI_DIR}/results"

declare -a SUMMARY=()
FAILED=0
T0=$(date +%s)

# skipping NAME: whether CMEMAE_SKIP names stage NAME.
skipping() { [[ " ${CMEMAE_SKIP:-} " == *" $1 "* ]]; }

# skipped NAME WHY: records stage NAME as skipped, and why.
skipped() { SUMMARY+=("$(printf '%-10s %8s  %s' "$1" "-" "skipped ($2)")"); }

# stage NAME COMMAND...: runs COMMAND, timing it and recording the outcome.
stage() {
  local name="$1"
  shift
  if skipping "${name}"; then
    skipped "${name}" CMEMAE_SKIP
    return 0
  fi
  printf '\n=== [%s] %s: %s\n' "$(date -u +%H:%M:%S)" "${name}" "$*"
  local start rc
  start=$(date +%s)
  "$@"
  rc=$?
  local secs=$(($(date +%s) - start))
  local verdict="ok"
  if ((rc != 0)); then
    verdict="FAILED (exit ${rc})"
    FAILED=1
  fi
  printf '=== %s: %s in %ds\n' "${name}" "${verdict}" "${secs}"
  SUMMARY+=("$(printf '%-10s %7ds  %s' "${name}" "${secs}" "${verdict}")")
  return "${rc}"
}

check_gofmt() {
  local files
  files="$(gofmt -l . 2>&1)"
  if [[ -n "${files}" ]]; then
    echo "gofmt -l lists files that need gofmt -w:"
    echo "${files}"
    return 1
  fi
}

pick_goexperiment() {
  if GOEXPERIMENT=simd go build ./... >${CMEMAE_CI_DIR}/simd-build.log 2>&1; then
    export GOEXPERIMENT=simd
    echo "GOEXPERIMENT=simd builds: using it for tests and notebooks"
  else
    echo "GOEXPERIMENT=simd does not build (see ${CMEMAE_CI_DIR}/simd-build.log): testing without it"
    unset GOEXPERIMENT
  fi
}

# jupyter_path prints the Jupyter to use: Debian's (${CMEMAE_SYSTEM_BIN}, default /usr/bin)
# before any other on PATH (pyenv's python3, first on some PATHs, has no Jupyter).
# Tools that .ci/install.sh installs are looked up only inside the stages that use them,
# never at the top of this script: on a fresh machine they exist only once the install
# stage has run (.ci/check-fresh.sh, the "fresh" stage, checks exactly that).
jupyter_path() {
  command -v "${CMEMAE_SYSTEM_BIN:-/usr/bin}/jupyter" || command -v jupyter || {
    echo "jupyter not found in ${CMEMAE_SYSTEM_BIN:-/usr/bin} nor on PATH: did the install stage run?" >&2
    return 1
  }
}

# execute_notebooks OUTDIR RESULTS NOTEBOOK...: executes each notebook headless
# (CMEMAE_BUDGET from the environment) into OUTDIR, with results in RESULTS.
execute_notebooks() {
  local out="$1" results="$2"
  shift 2
  local jupyter
  jupyter="$(jupyter_path)" || return 1
  rm -rf "${out}" "${results}"
  mkdir -p "${out}" "${results}"
  if (($# == 0)); then
    echo "no notebooks to execute"
    return 1
  fi
  local nb rc=0 start
  for nb in "$@"; do
    start=$(date +%s)
    echo "--- executing ${nb} (CMEMAE_BUDGET=${CMEMAE_BUDGET}${CMEMAE_NO_TRAIN:+, CMEMAE_NO_TRAIN=${CMEMAE_NO_TRAIN}})"
    # timeout(1) signals the whole process group: nbconvert, the kernel, the cell binary.
    CMEMAE_RESULTS_DIR="${results}" timeout --kill-after=30 "${NOTEBOOK_WALL}" \
      "${jupyter}" nbconvert --to notebook --execute \
      --ExecutePreprocessor.timeout="${NOTEBOOK_TIMEOUT}" \
      --ExecutePreprocessor.kernel_name=gonb \
      --output-dir "${out}" "${nb}" \
      > >(grep --line-buffered -v -e 'Debugger warning' -e 'frozen modules' -e 'Xfrozen_modules' -e 'PYDEVD_DISABLE') 2>&1
    local status=$?
    if [[ "${status}" != 0 || ! -s "${out}/$(basename "${nb}")" ]]; then
      echo "--- ${nb}: FAILED after $(($(date +%s) - start))s"
      rc=1
    else
      echo "--- ${nb}: executed in $(($(date +%s) - start))s"
    fi
  done
  return "${rc}"
}

run_notebooks() {
  shopt -s nullglob
  execute_notebooks "${EXECUTED}" "${NOTEBOOK_RESULTS}" notebooks/*.ipynb
}

# The notebooks that open on the shipped results, executed with training forbidden
# (CMEMAE_NO_TRAIN) and an empty results directory: every figure must come from the
# shipped files. At the cpu budget (notebooks/results-cpu-budget) 01-04 (00 and 05 train
# by design); at the full budget (notebooks/results-full-budget) those whose experiments
# ship whole there (.ci/shipped-notebooks.sh).
# shellcheck source=shipped-notebooks.sh
source "${REPO}/.ci/shipped-notebooks.sh"
SHIPPED_EXECUTED="${EXECUTED}/shipped"
SHIPPED_FULL_EXECUTED="${EXECUTED}/shipped-full"
run_shipped_notebooks() {
  shopt -s nullglob
  local rc=0
  # shellcheck disable=SC2086 # the globs expand here
  CMEMAE_BUDGET=cpu CMEMAE_NO_TRAIN=1 execute_notebooks "${SHIPPED_EXECUTED}" "${CMEMAE_CI_DIR}/results-shipped" \
    notebooks/${CMEMAE_SHIPPED_CPU_NOTEBOOKS} || rc=1
  # shellcheck disable=SC2086
  CMEMAE_BUDGET=full CMEMAE_NO_TRAIN=1 execute_notebooks "${SHIPPED_FULL_EXECUTED}" "${CMEMAE_CI_DIR}/results-shipped-full" \
    notebooks/${CMEMAE_SHIPPED_FULL_NOTEBOOKS} || rc=1
  return "${rc}"
}

# check_shipped_notebooks: shipcheck, nbcheck's checks on both budgets' executions.
check_shipped_notebooks() {
  local rc=0
  in_repocheck env CMEMAE_EXECUTED_NOTEBOOKS="${SHIPPED_EXECUTED}" CMEMAE_EXPECTED_NOTEBOOKS="${CMEMAE_SHIPPED_CPU_NOTEBOOKS}" \
    go test -count=1 -v -run 'TestExecutedNotebooks' . || rc=1
  in_repocheck env CMEMAE_EXECUTED_NOTEBOOKS="${SHIPPED_FULL_EXECUTED}" CMEMAE_EXPECTED_NOTEBOOKS="${CMEMAE_SHIPPED_FULL_NOTEBOOKS}" \
    go test -count=1 -v -run 'TestExecutedNotebooks' . || rc=1
  return "${rc}"
}

stage fresh bash .ci/check-fresh.sh
# fuzz_briefly runs every fuzz target of the readers of untrusted bytes for a few
# seconds (CMEMAE_FUZZTIME, default 3s) from its committed corpus (testdata/fuzz).
fuzz_briefly() {
  local target pkg rc=0
  while read -r pkg target; do
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "${CMEMAE_FUZZTIME:-3s}" -parallel 1 "./${pkg}" || rc=1
  done < <(grep -l '^func Fuzz' pkg/*/*_test.go | while read -r f; do
    sed -n 's/^func \(Fuzz[A-Za-z0-9]*\)(.*/\1/p' "${f}" | sed "s|^|$(dirname "${f}") |"
  done)
  return "${rc}"
}

stage install bash .ci/install.sh || {
  echo "install failed: stopping"
  exit 1
}
stage gofmt check_gofmt
vet_all() {
  go vet ./... && (cd .ci/pjrt-install && go vet ./... && go test -count=1 ./...) && in_repocheck go vet ./...
}
# in_repocheck COMMAND...: runs COMMAND in the .ci/repocheck module.
in_repocheck() { (cd "${REPO}/.ci/repocheck" && "$@"); }

# gpu_resume: .ci/gpu-check.sh's GPU_CHECK_RESUME_FROM on the rehearsal's output, with no
# checkpoints archive and the AE run cut back to epoch 1 of 2 (stopped): the complete MemAE
# run is skipped without a checkpoint, the stopped one trains again, its metrics set aside.
gpu_resume() {
  local from="${CMEMAE_CI_DIR}/gpu-check" prev="${CMEMAE_CI_DIR}/gpu-resume-from" tmp="${CMEMAE_CI_DIR}/gpu-resume-tmp"
  local work="${CMEMAE_CI_DIR}/gpu-resume-work" out="${CMEMAE_CI_DIR}/gpu-resume" m
  [[ -f "${from}/results.tar.gz" ]] || {
    echo "gpu_resume: no ${from}/results.tar.gz: it continues the gpucheck stage's rehearsal"
    return 1
  }
  rm -rf "${prev}" "${tmp}" && mkdir -p "${prev}" "${tmp}" || return 1
  tar -xzf "${from}/results.tar.gz" -C "${tmp}" || return 1
  rm -rf "${tmp}/results/logs" # the first rehearsal's logs would answer for this one's
  # One target, no epoch 0: the header and a row per epoch.
  local ae memae
  ae=$(find "${tmp}" -path '*model=ae,*' -name metrics.csv)
  memae=$(find "${tmp}" -path '*model=memae,*' -name metrics.csv)
  if [[ -z "${ae}" || -z "${memae}" || $(wc -l <"${ae}") != 3 || $(wc -l <"${memae}") != 3 ]]; then
    echo "gpu_resume: the rehearsal did not leave its two runs complete (2 epochs): ${ae:-no AE run} ${memae:-no MemAE run}"
    return 1
  fi
  head -n 2 "${ae}" >"${ae}.cut" && mv "${ae}.cut" "${ae}" # stopped after epoch 1
  tar -czf "${prev}/results.tar.gz" -C "${tmp}" results || return 1
  GPU_CHECK_BACKEND=go GPU_CHECK_BUILD=0 GPU_CHECK_WORK="${work}" GPU_CHECK_RESUME_FROM="${prev}" \
    bash .ci/gpu-check.sh "${out}" || return 1
  ae=$(find "${work}/results" -path '*model=ae,*' -name metrics.csv)
  grep -q 'already complete (2 epochs)' "${work}"/results/logs/memae_*.log &&
    [[ -n "${ae}" && $(wc -l <"${ae}") == 3 && -f "$(dirname "${ae}")/metrics.no-checkpoint.csv" ]] || {
    echo "gpu_resume: want the MemAE run skipped (already complete), the AE run trained again (2 epochs), its old metrics set aside"
    return 1
  }
}

stage vet vet_all
stage simd pick_goexperiment
stage test go test -count=1 -timeout 45m ./...
stage fuzz fuzz_briefly
stage repocheck in_repocheck go test -count=1 ./...
stage notebooks run_notebooks
stage nbcheck in_repocheck env CMEMAE_EXECUTED_NOTEBOOKS="${EXECUTED}" \
  go test -count=1 -v -run 'TestExecutedNotebooks|TestNotebookSetup' .
stage shipped run_shipped_notebooks
stage shipcheck check_shipped_notebooks
stage browser in_repocheck env CMEMAE_BROWSER_TEST=1 CMEMAE_ARTIFACTS_DIR="${EXECUTED}" CMEMAE_EXECUTED_NOTEBOOKS="${EXECUTED}" \
  go test -count=1 -v -timeout 40m -run 'TestBrowserRunsQuickstart|TestBrowserPlayground|TestBrowserPicker' .
stage slurm bash .ci/slurm-test.sh
stage gpucheck env GPU_CHECK_BACKEND=go GPU_CHECK_WORK="${CMEMAE_CI_DIR}/gpu-check-work" bash .ci/gpu-check.sh "${CMEMAE_CI_DIR}/gpu-check"
# gpuresume continues gpucheck's output: skipping gpucheck skips it too.
if skipping gpucheck; then
  skipped gpuresume "continues gpucheck, which was skipped"
else
  stage gpuresume gpu_resume
fi

echo
echo "=== the GoNB kernel used here is registered in ${JUPYTER_DATA_DIR} (CI's own, not your Jupyter's);"
echo "=== to register it for yourself: bash .ci/install-gonb.sh   (in a shell that has not sourced .ci/env.sh)"
echo "=== summary (GOEXPERIMENT=${GOEXPERIMENT:-none}, total $(($(date +%s) - T0))s)"
printf '%s\n' "${SUMMARY[@]}"
if ((FAILED)); then
  echo "=== FAILED"
  exit 1
fi
echo "=== all stages passed"
