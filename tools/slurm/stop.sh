#!/usr/bin/env bash
# Stops the daemons started by tools/slurm/start.sh STATE_DIR, by the pids in their pid files
# (slurmd, slurmctld, then munged), waiting up to 10 s each before SIGKILL, and removes the munge
# folder. Safe to run twice.
set -uo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 STATE_DIR" >&2; exit 1; }
DIR=$1
stop_pid_file() {
  local f=$1 pid
  [[ -s "$f" ]] || return 0
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop_pid_file "$DIR/slurmd.pid"
stop_pid_file "$DIR/slurmctld.pid"
if [[ -s "$DIR/munge_dir" ]]; then
  M=$(cat "$DIR/munge_dir")
  stop_pid_file "$M/munged.pid"
  [[ "$M" == /tmp/fieldseg-munge.* ]] && rm -rf "$M"
  rm -f "$DIR/munge_dir"
fi
exit 0
