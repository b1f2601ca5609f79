#!/usr/bin/env bash
# Starts a one-node Slurm cluster on localhost for tests and demos (Debian 12: slurm-wlm, munge).
#
#   tools/slurm/start.sh STATE_DIR      # then: export SLURM_CONF=STATE_DIR/slurm.conf
#   tools/slurm/stop.sh STATE_DIR
#
# Everything lives in STATE_DIR (munge files in a /tmp folder it names): a private munge key and
# munged socket (munged runs as user munge),
# slurm.conf (SlurmctldHost/NodeName = `hostname -s` at 127.0.0.1, CPUs=2, auth/munge,
# proctrack/linuxproc, task/none, SlurmUser=root, no accounting, no cgroups), state, spool, logs
# and pid files. Needs root. Ports: FIELDSEG_SLURM_PORT (slurmctld, default 16817) and +1 (slurmd),
# away from a system Slurm's 6817/6818. FIELDSEG_SLURM_CPUS overrides CPUs (default 2).
# Prints `export SLURM_CONF=...` on stdout when the node is idle and accepts jobs.
set -euo pipefail

die() { echo "slurm/start: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 STATE_DIR"
[[ $(id -u) -eq 0 ]] || die "must run as root (munged runs as user munge, slurmd as root)."
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || die "'$b' not found. Install the Debian packages: apt-get install slurm-wlm munge"
done
id munge >/dev/null 2>&1 || die "user 'munge' missing. Reinstall the munge package."

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
PORT=${FIELDSEG_SLURM_PORT:-16817}
CPUS=${FIELDSEG_SLURM_CPUS:-2}
HOST=$(hostname -s)

# munge: private key and socket; munged insists on owner munge and no group/other write access.
# They live in their own folder under /tmp, because user munge may not be able to traverse
# STATE_DIR's parents (mktemp -d makes 0700 folders); STATE_DIR/munge_dir records where.
if [[ -s "$DIR/munge_dir" ]]; then
  M=$(cat "$DIR/munge_dir")
else
  M=$(mktemp -d /tmp/fieldseg-munge.XXXXXX)
  echo "$M" >"$DIR/munge_dir"
fi
chown munge:munge "$M"
chmod 0755 "$M"
if [[ ! -s "$M/munge.key" ]]; then
  dd if=/dev/urandom of="$M/munge.key" bs=1024 count=1 status=none
fi
chown munge:munge "$M/munge.key"
chmod 0400 "$M/munge.key"
runuser -u munge -- munged --key-file="$M/munge.key" --socket="$M/munge.socket" \
  --pid-file="$M/munged.pid" --log-file="$M/munged.log" --seed-file="$M/munged.seed" \
  || die "munged failed to start; see $M/munged.log"
for _ in $(seq 50); do [[ -S "$M/munge.socket" ]] && break; sleep 0.1; done
munge -S "$M/munge.socket" -n | unmunge -S "$M/munge.socket" >/dev/null \
  || die "munge round trip failed; see $M/munged.log"

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
cat >"$DIR/slurm.conf" <<CONF
ClusterName=fieldseg
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$M/munge.socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
MaxArraySize=10001
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF="$DIR/slurm.conf"

slurmctld -f "$SLURM_CONF" -i || die "slurmctld failed; see $DIR/log/slurmctld.log"
slurmd -f "$SLURM_CONF" || die "slurmd failed; see $DIR/log/slurmd.log"

for _ in $(seq 150); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [[ "$state" == idle* ]] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.2
done
echo "slurm/start: node '$HOST' did not become idle (state '${state:-none}'). Last log lines:" >&2
tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
exit 1
