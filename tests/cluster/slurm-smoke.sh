#!/usr/bin/env bash
# A real Slurm, not a mock: starts a one-node cluster on this machine (Debian's slurm-wlm: slurmctld + slurmd, munge),
# submits a tiny sweep as a 2-task job array with `research sweep … --slurm --submit`, waits for it, and checks that
# every run landed in the store and equals the same sweep run locally (same run keys, same seeds, same metrics).
#
# Opt-in, not part of the README's test command: it needs root (it installs packages and starts daemons) and takes a
# few minutes. Run from anywhere in the workspace:   sudo bash tests/cluster/slurm-smoke.sh
# It leaves nothing running; its files are in a temporary folder it prints (kept on failure, removed on success).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/slurm-smoke.XXXXXX)"
chmod 755 "$WORK"
say() { printf '[slurm-smoke %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { say "FAILED: $*"; say "files kept in $WORK (slurmctld.log, slurmd.log, slurm/logs/)"; exit 1; }

[[ $EUID -eq 0 ]] || { echo "Needs root (it installs slurm-wlm and munge and starts their daemons): sudo bash $0" >&2; exit 2; }

# ---- 1. packages -------------------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  say "installing slurm-wlm and munge (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
command -v python3 >/dev/null || fail "python3 is needed to compare the two stores"

# ---- 2. munge and a one-node cluster on localhost ----------------------------------------------------------------
cleanup() {
  local status=$? pids=()
  for file in "$WORK/slurmctld.pid" "$WORK/slurmd.pid" "$WORK/munge/munged.pid"; do
    [[ -f "$file" ]] && pids+=("$(cat "$file")")
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done; done
  if [[ $status -eq 0 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

mkdir -p "$WORK/munge" "$WORK/state" "$WORK/spool" "$WORK/slurm"
if [[ ! -s /etc/munge/munge.key ]]; then
  say "creating a munge key"
  if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
chown munge:munge "$WORK/munge"
say "starting munged"
runuser -u munge -- munged --socket="$WORK/munge/munge.socket" --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/seed" --force
export MUNGE_SOCKET="$WORK/munge/munge.socket"

HOST="$(hostname -s)"
NODE_LINE="$(slurmd -C | head -n 1)"   # NodeName=… CPUs=… Boards=… SocketsPerBoard=… CoresPerSocket=… ThreadsPerCore=… RealMemory=…
cat > "$WORK/slurm.conf" <<EOF
ClusterName=smoke
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$WORK/munge/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/pgid
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=smoke Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
say "starting slurmctld and slurmd ($NODE_LINE)"
slurmctld -i
slurmd
for _ in $(seq 60); do
  state="$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)"
  [[ "$state" == idle* ]] && break
  [[ "$state" == down* || "$state" == drain* ]] && scontrol update nodename="$HOST" state=resume 2>/dev/null || true
  sleep 1
done
[[ "$(sinfo -h -n "$HOST" -o %t)" == idle* ]] || fail "the node did not become idle: $(sinfo -h -n "$HOST" -o '%t %E')"
say "cluster up: $(sinfo -h -o '%P %D %t %c')"

# ---- 3. the sweep, on the cluster and locally --------------------------------------------------------------------
say "building research"
dotnet build "$ROOT/lib/Research" -v q -nologo >/dev/null
RESEARCH=(dotnet "$ROOT/lib/Research/bin/Debug/net10.0/research.dll")
SWEEP=(sweep train --set task=copy --set symbols=6 --set min_length=2 --set max_length=5 --set train_size=200 --set dev_size=20
       --set test_size=20 --set d_model=16 --set heads=2 --set d_ff=32 --set encoder_layers=1 --set decoder_layers=1
       --set batch_size=16 --set warmup=5 --set max_steps=30 --set eval_every=15 --set threads=1 --grid lr=0.001,0.003 --seeds 1)

cd "$ROOT"
say "submitting the sweep as a Slurm array"
out="$("${RESEARCH[@]}" "${SWEEP[@]}" --store "$WORK/cluster-store" --slurm --submit --tasks 2 --time 0:10:00 --slurm-dir "$WORK/slurm")"
echo "$out"
job="$(sed -n 's/^Submitted job array \([0-9]*\).*/\1/p' <<<"$out")"
[[ -n "$job" ]] || fail "no job id in the output"
for _ in $(seq 600); do
  [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
  sleep 1
done
[[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] || fail "job $job still queued or running after 10 minutes: $(squeue -j "$job")"
say "job $job finished; its status from the store:"
"${RESEARCH[@]}" "${SWEEP[@]}" --store "$WORK/cluster-store" --status

say "resubmitting: finished runs are skipped, not redone"
before="$(stat -c %Y "$WORK"/cluster-store/train/*/summary.json)"
out="$("${RESEARCH[@]}" "${SWEEP[@]}" --store "$WORK/cluster-store" --slurm --submit --tasks 2 --time 0:10:00 --slurm-dir "$WORK/slurm")"
again="$(sed -n 's/^Submitted job array \([0-9]*\).*/\1/p' <<<"$out")"
[[ -n "$again" ]] || fail "no job id when resubmitting"
for _ in $(seq 300); do [[ -z "$(squeue -h -j "$again" 2>/dev/null)" ]] && break; sleep 1; done
[[ "$(stat -c %Y "$WORK"/cluster-store/train/*/summary.json)" == "$before" ]] || fail "a resubmission rewrote a finished run"
grep -q "already finished" "$WORK"/slurm/logs/"${again}"_*.out \
  || fail "the resubmitted tasks did not report their runs as already finished: $(cat "$WORK"/slurm/logs/"${again}"_*.out)"

say "the same sweep, locally"
"${RESEARCH[@]}" "${SWEEP[@]}" --store "$WORK/local-store" >/dev/null

# ---- 4. the two stores hold the same runs with the same results --------------------------------------------------
python3 - "$WORK/cluster-store/train" "$WORK/local-store/train" <<'PY'
import json, os, sys
cluster, local = sys.argv[1], sys.argv[2]
def runs(folder):
    return {d: json.load(open(os.path.join(folder, d, "summary.json")))["metrics"]
            for d in sorted(os.listdir(folder)) if os.path.exists(os.path.join(folder, d, "summary.json"))}
def states(folder):
    return {d: json.load(open(os.path.join(folder, d, "status.json")))["state"] for d in sorted(os.listdir(folder))}
a, b = runs(cluster), runs(local)
timing = {"train_seconds", "tokens_per_second"}  # wall-clock readings differ between any two runs
assert set(states(cluster).values()) == {"done"}, f"cluster runs not all done: {states(cluster)}"
assert len(a) == 2, f"expected 2 runs from the cluster, found {sorted(a)}"
assert sorted(a) == sorted(b), f"run keys differ: cluster {sorted(a)} vs local {sorted(b)}"
for key in a:
    ca = json.load(open(os.path.join(cluster, key, "config.json")))
    cb = json.load(open(os.path.join(local, key, "config.json")))
    assert ca == cb, f"{key}: config.json differs"
    ma = {k: v for k, v in a[key].items() if k not in timing}
    mb = {k: v for k, v in b[key].items() if k not in timing}
    assert ma == mb, f"{key}: metrics differ:\n cluster {ma}\n local   {mb}"
    print(f"{key} (seed {ca['seed']}): identical — dev_sequence_error {ma['dev_sequence_error']}, dev_loss {ma['dev_loss']}")
PY
say "PASSED: the Slurm array's runs equal the local sweep's (same keys, seeds and metrics)"
