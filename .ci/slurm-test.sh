#!/usr/bin/env bash
# slurm-test.sh — the sweep-on-a-cluster test on a REAL single-node Slurm cluster that
# this script starts itself (CI runs it as the last stage of .ci/test.sh):
#
#   bash .ci/slurm-test.sh
#
#  1. installs Debian's slurmctld, slurmd, slurm-client and munge if missing (apt-get);
#  2. starts munged, slurmctld and slurmd as root, everything (key, socket, ports,
#     state, spool, logs, pid files) in a temporary directory, so nothing in /etc is
#     touched and a system Slurm, if any, is not disturbed;
#  3. builds the command line and trains a tiny experiment (4 runs: digits 0-3, 200
#     images, 3 epochs) on this machine without Slurm: the reference;
#  4. writes the job array with `thesis_experiments sbatch` and submits it with
#     `sbatch --wait` (4 tasks, at most 2 at once); once one run has checkpointed an
#     epoch, kill -9's the process training it (its pid is in the run's .lock file);
#  5. submits the same script again, and checks: every planned run finished exactly
#     once (epochs 1..3 once each in metrics.csv), metrics.csv byte-identical to the
#     reference, the killed run resumed from a checkpoint, the others were skipped as
#     complete, and `table` of the merged tree equals `table` of the reference;
#  6. stops the daemons (by the pids in their pid files) and removes the directory.
#
# It skips (exit 0, "SKIP: …") only where Slurm cannot start: not root (and no
# sudo), packages not installable, or daemons that do not come up. Environment:
# CMEMAE_CI_DIR (parent of the temporary directory), CMEMAE_SLURM_KEEP=1 keeps it.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=env.sh
source "${REPO}/.ci/env.sh"
export GOMLX_BACKEND=go
# Where Debian's slurm and munge packages put their daemons (CMEMAE_SYSTEM_SBIN
# points elsewhere in .ci/check-fresh.sh's sandbox).
SBIN="${CMEMAE_SYSTEM_SBIN:-/usr/sbin}"

log() { printf '[slurm-test] %s\n' "$*" >&2; }
skip() {
  log "SKIP: $*"
  exit 0
}
die() {
  log "FAILED: $*"
  exit 1
}

if [[ "$(id -u)" != 0 ]]; then
  if [[ -z "${CMEMAE_SLURM_SUDO:-}" ]] && sudo -n true 2>/dev/null; then
    log "not root: running myself with sudo"
    exec sudo -n -E env "PATH=${PATH}" CMEMAE_SLURM_SUDO=1 bash "${BASH_SOURCE[0]}" "$@"
  fi
  skip "Slurm's daemons must run as root here (slurmd launches the jobs), and sudo is not available without a password"
fi

# --- 1. packages -------------------------------------------------------------------
PACKAGES=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${p}")
done
if ((${#missing[@]} > 0)); then
  log "apt-get install ${missing[*]}"
  for _ in $(seq 1 60); do
    fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1 || break
    sleep 5
  done
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2; then
    skip "could not install ${missing[*]} with apt-get (see above)"
  fi
fi
for b in "${SBIN}/munged" "${SBIN}/slurmctld" "${SBIN}/slurmd" sbatch squeue sinfo scancel; do
  command -v "${b}" >/dev/null || skip "${b} is missing after installing ${PACKAGES[*]}"
done

# --- 2. the cluster ----------------------------------------------------------------
mkdir -p "${CMEMAE_CI_DIR}"
T="$(mktemp -d "${CMEMAE_CI_DIR}/slurm.XXXXXX")"
chmod 755 "${T}"
mkdir -p "${T}/munge" "${T}/state" "${T}/spool" "${T}/log"
chmod 700 "${T}/munge"

stop_cluster() {
  local f pid
  if [[ -n "${SLURM_CONF:-}" ]]; then scancel --quiet --user=root >/dev/null 2>&1 || true; fi
  for f in "${T}/slurmd.pid" "${T}/slurmctld.pid" "${T}/munge/munged.pid"; do
    [[ -s "${f}" ]] || continue
    pid="$(cat "${f}")"
    kill "${pid}" 2>/dev/null || continue
    for _ in $(seq 1 50); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "${pid}" 2>/dev/null || true
  done
  if [[ "${CMEMAE_SLURM_KEEP:-0}" == 1 ]]; then
    log "kept ${T}"
  else
    rm -rf "${T}"
  fi
}
trap stop_cluster EXIT

cluster_logs() {
  local f
  for f in "${T}"/log/*.log; do
    [[ -f "${f}" ]] || continue
    echo "--- ${f} (last 15 lines)"
    tail -n 15 "${f}"
  done >&2
}

# munge: a fresh key, its own socket.
dd if=/dev/urandom of="${T}/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "${T}/munge/munge.key"
MUNGE_SOCKET="${T}/munge/munge.socket"
if ! "${SBIN}/munged" --force --key-file="${T}/munge/munge.key" --socket="${MUNGE_SOCKET}" \
  --pid-file="${T}/munge/munged.pid" --log-file="${T}/log/munged.log" \
  --seed-file="${T}/munge/munged.seed" 2>"${T}/log/munged.err"; then
  cat "${T}/log/munged.err" >&2
  skip "munged does not start (see above)"
fi
if ! munge --socket="${MUNGE_SOCKET}" -n | unmunge --socket="${MUNGE_SOCKET}" >/dev/null; then
  cluster_logs
  skip "munge does not work (munge -n | unmunge fails)"
fi

# Ports of this cluster: away from Slurm's defaults (6817/6818), per process.
CTLD_PORT=$((20000 + ($$ % 5000) * 2))
SLURMD_PORT=$((CTLD_PORT + 1))
HOST="$(hostname -s)"
CPUS="$(nproc)"
export SLURM_CONF="${T}/slurm.conf"
cat >"${SLURM_CONF}" <<EOF
ClusterName=cmemaeci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${MUNGE_SOCKET}
CredType=cred/munge
StateSaveLocation=${T}/state
SlurmdSpoolDir=${T}/spool
SlurmctldPidFile=${T}/slurmctld.pid
SlurmdPidFile=${T}/slurmd.pid
SlurmctldLogFile=${T}/log/slurmctld.log
SlurmdLogFile=${T}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=5
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF

"${SBIN}/slurmctld" -f "${SLURM_CONF}" 2>"${T}/log/slurmctld.err" || {
  cat "${T}/log/slurmctld.err" >&2
  cluster_logs
  skip "slurmctld does not start"
}
"${SBIN}/slurmd" -f "${SLURM_CONF}" 2>"${T}/log/slurmd.err" || {
  cat "${T}/log/slurmd.err" >&2
  cluster_logs
  skip "slurmd does not start"
}
state=""
for _ in $(seq 1 60); do
  state="$(sinfo -h -o %T 2>/dev/null | head -n 1)"
  [[ "${state}" == idle ]] && break
  sleep 0.5
done
if [[ "${state}" != idle ]]; then
  sinfo >&2 || true
  cluster_logs
  skip "the Slurm node did not become idle within 30 s (state '${state}')"
fi
log "Slurm $(sinfo -V | awk '{print $2}') up: node ${HOST}, ${CPUS} CPUs, ports ${CTLD_PORT}/${SLURMD_PORT}, in ${T}"

# --- 3. the reference, on this machine ---------------------------------------------
BIN="${T}/thesis_experiments"
log "go build ./thesis_experiments"
(cd "${REPO}" && go build -o "${BIN}" ./thesis_experiments) || die "go build ./thesis_experiments"
ARGS=(-max-test-images=100 experiment=smoke 'datamodule.targets=[0,1,2,3]' trainer.max_epochs=3)
EPOCHS=3
cd "${T}" || die "cd ${T}"
start=$(date +%s)
"${BIN}" "${ARGS[@]}" results_dir=ref >"${T}/log/ref.out" 2>&1 || {
  tail -n 30 "${T}/log/ref.out" >&2
  die "the single-machine reference run failed"
}
log "reference: 4 runs in $(($(date +%s) - start)) s"
mapfile -t RUNS < <("${BIN}" -n "${ARGS[@]}" results_dir=slurm | sed -n 's/.* → slurm\///p')
((${#RUNS[@]} == 4)) || die "planned ${#RUNS[@]} runs, want 4: ${RUNS[*]}"

# --- 4. the array, one task killed -------------------------------------------------
# The user's two lines: generate (the tasks get a copy of the program), submit.
"${BIN}" sbatch -parallel 2 -cpus 1 -time 5 "${ARGS[@]}" results_dir=slurm >"${T}/log/sbatch-gen.out" ||
  die "thesis_experiments sbatch"
cat "${T}/log/sbatch-gen.out" >&2
JOB="${T}/slurm/smoke/slurm/smoke.sbatch"
grep -q -- '--array=0-3%2' "${JOB}" || die "${JOB} lacks --array=0-3%2"
cmp -s "${BIN}" "${T}/slurm/smoke/slurm/thesis_experiments" || die "the tasks' copy of the program differs from ${BIN}"

start=$(date +%s)
sbatch --wait "${JOB}" >"${T}/log/submit1.out" 2>&1 &
SUBMIT1=$!
# The victim: the first run that has checkpointed epoch 1 but not the last epoch;
# its trainer's pid is in the run directory's lock file.
victim="" pid=""
for _ in $(seq 1 1200); do
  for r in "${RUNS[@]}"; do
    d="${T}/slurm/${r}"
    if [[ -d "${d}/checkpoints/epoch_0001" && ! -d "${d}/checkpoints/$(printf 'epoch_%04d' "${EPOCHS}")" ]]; then
      pid="$(sed -n 's/^pid \([0-9]*\) .*/\1/p' "${d}/.lock" 2>/dev/null)"
      if [[ -n "${pid}" ]] && kill -9 "${pid}" 2>/dev/null; then
        victim="${r}"
        break 2
      fi
    fi
  done
  kill -0 "${SUBMIT1}" 2>/dev/null || break
  sleep 0.1
done
wait "${SUBMIT1}"
rc1=$?
JOB1="$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "${T}/log/submit1.out")"
log "first array (job ${JOB1}): sbatch --wait exit ${rc1} after $(($(date +%s) - start)) s; killed pid ${pid} training ${victim}"
[[ -n "${victim}" ]] || {
  cat "${T}/log/submit1.out" "${T}"/slurm/smoke/slurm/logs/*.out 2>/dev/null | tail -n 40 >&2
  die "found no run between its first and last checkpoint to kill"
}
((rc1 != 0)) || die "sbatch --wait exited 0 although a task was killed"
[[ ! -d "${T}/slurm/${victim}/checkpoints/$(printf 'epoch_%04d' "${EPOCHS}")" ]] || die "the killed run ${victim} finished anyway"

# --- 5. resubmit, check ------------------------------------------------------------
start=$(date +%s)
sbatch --wait "${JOB}" >"${T}/log/submit2.out" 2>&1
rc2=$?
JOB2="$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "${T}/log/submit2.out")"
LOGS2=("${T}"/slurm/smoke/slurm/logs/"${JOB2}"_*.out)
log "second array (job ${JOB2}): exit ${rc2} after $(($(date +%s) - start)) s, ${#LOGS2[@]} task logs"
((rc2 == 0)) || {
  tail -n 30 "${LOGS2[@]}" >&2
  die "the resubmitted array failed"
}

fail=0
check() {
  if ! "$@"; then fail=1; fi
}
want_epochs="$(seq 1 "${EPOCHS}" | paste -sd ' ')"
for r in "${RUNS[@]}"; do
  m="${T}/slurm/${r}/metrics.csv"
  epochs="$(awk -F, 'NR > 1 {print $6}' "${m}" 2>/dev/null | paste -sd ' ')"
  if [[ "${epochs}" != "${want_epochs}" ]]; then
    log "${r}: epochs in metrics.csv '${epochs}', want '${want_epochs}' (each once)"
    fail=1
  elif ! cmp -s "${m}" "${T}/ref/${r}/metrics.csv"; then
    log "${r}: metrics.csv differs from the single-machine run:"
    diff "${T}/ref/${r}/metrics.csv" "${m}" >&2
    fail=1
  else
    log "ok ${r}: epochs ${epochs}, metrics.csv identical to the single-machine run"
  fi
done
n_resumed="$(cat "${LOGS2[@]}" | grep -c "train: resuming slurm/${victim} from checkpoint " || true)"
n_complete="$(cat "${LOGS2[@]}" | grep -c '^  already complete' || true)"
log "second array: ${n_resumed} run resumed from a checkpoint (want 1), ${n_complete} skipped as complete (want 3)"
check test "${n_resumed}" = 1
check test "${n_complete}" = 3
"${BIN}" table ref/smoke >"${T}/log/table-ref.txt" 2>&1
"${BIN}" table slurm/smoke >"${T}/log/table-slurm.txt" 2>&1
if diff <(sed 's/ref\/smoke/TREE/g' "${T}/log/table-ref.txt") <(sed 's/slurm\/smoke/TREE/g' "${T}/log/table-slurm.txt") >&2; then
  log "ok table of the merged tree equals the single-machine table ($(wc -l <"${T}/log/table-slurm.txt") lines)"
else
  log "table of the merged tree differs from the single-machine table (above)"
  fail=1
fi
if ((fail)); then
  cluster_logs
  die "see above"
fi
log "PASS: 4 runs over a 4-task Slurm array, one task killed mid-run, resubmitted: each run once, identical to one machine"
