#!/usr/bin/env bash
# A real one-node SLURM for the cluster tests (Debian bookworm: slurmctld/slurmd 22.05, munge).
#
#   test/slurm/slurm.sh start [STATE_DIR]   start munged, slurmctld and slurmd; wait until the node is idle
#   test/slurm/slurm.sh stop  [STATE_DIR]   cancel every job, stop the daemons by their pid files
#
# Everything lives in STATE_DIR (default /tmp/ptychopinn-slurm): its own munge key and socket, a
# slurm.conf for this machine (short hostname, its CPU count, select/cons_tres,
# proctrack/linuxproc, task/none), free ports, logs, spool and pid files. Nothing under /etc is
# touched and no system service is used. `start` first stops whatever a previous run left there
# (by its pid files) and starts from an empty directory, so a stale state never breaks a run.
# On success `start` prints `SLURM_CONF=<STATE_DIR>/slurm.conf` as its last line; clients (sbatch,
# squeue, scancel, and the study CLI's --submit) need that variable. Exit status non-zero, with the
# reason on stderr and nothing left running, when SLURM cannot start. Needs root (SlurmdUser).
set -u
cmd=${1:-}
S=${2:-/tmp/ptychopinn-slurm}
S=${S%/}

say() { echo "slurm.sh: $*" >&2; }

# pid from a pid file, if that process is alive and is the daemon we expect
live_pid() {
  local file=$1 name=$2 pid
  [ -f "$file" ] || return 1
  pid=$(tr -dc 0-9 < "$file")
  [ -n "$pid" ] || return 1
  [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = "$name" ] || return 1
  echo "$pid"
}

stop_daemon() {
  local file=$1 name=$2 pid i
  pid=$(live_pid "$file" "$name") || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  say "$name ($pid) did not stop in 10 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  return 0
}

stop_all() {
  if [ -f "$S/slurm.conf" ] && live_pid "$S/slurmctld.pid" slurmctld >/dev/null; then
    export SLURM_CONF="$S/slurm.conf"
    local ids i
    ids=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${ids// /}" ]; then
      # shellcheck disable=SC2086
      scancel $ids 2>/dev/null
      for i in $(seq 1 60); do
        [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  stop_daemon "$S/slurmd.pid" slurmd
  stop_daemon "$S/slurmctld.pid" slurmctld
  stop_daemon "$S/munged.pid" munged
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  local p i
  for i in $(seq 1 50); do
    p=$(( 20000 + (RANDOM % 20000) ))
    if port_free "$p" && [ "$p" != "${1:-}" ]; then echo "$p"; return 0; fi
  done
  return 1
}

fail() {
  say "$*"
  for f in munged.log slurmctld.log slurmd.log; do
    [ -s "$S/$f" ] && { say "--- last lines of $S/$f:"; tail -n 8 "$S/$f" >&2; }
  done
  stop_all
  exit 1
}

start() {
  [ "$(id -u)" = 0 ] || { say "needs root (slurmd runs jobs as SlurmdUser=root)"; exit 1; }
  local b
  for b in munged slurmctld slurmd sbatch squeue sinfo scancel scontrol; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || { say "$b is not installed (apt-get install slurmctld slurmd slurm-client munge)"; exit 1; }
  done
  export PATH="$PATH:/usr/sbin:/sbin"
  stop_all
  rm -rf "$S"
  mkdir -p "$S/ctld" "$S/spool" || { say "cannot create $S"; exit 1; }
  chmod 700 "$S"

  dd if=/dev/urandom of="$S/munge.key" bs=1024 count=1 status=none && chmod 400 "$S/munge.key" || fail "cannot write the munge key"
  munged --force --key-file="$S/munge.key" --socket="$S/munge.socket" --pid-file="$S/munged.pid" \
    --log-file="$S/munged.log" --seed-file="$S/munged.seed" || fail "munged did not start"

  local host cpus p1 p2
  host=$(hostname -s)
  cpus=$(nproc)
  p1=$(pick_port) || fail "no free port"
  p2=$(pick_port "$p1") || fail "no free port"
  cat > "$S/slurm.conf" <<EOF
# One-node SLURM for the PtychoPINN Studio cluster tests (written by test/slurm/slurm.sh).
ClusterName=ptychopinn-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$S/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
KillWait=5
InactiveLimit=0
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$S/slurm.conf"
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
  slurmd -f "$SLURM_CONF" || fail "slurmd did not start"

  local i state=''
  for i in $(seq 1 120); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1)
    [ "$state" = idle ] && { echo "SLURM_CONF=$SLURM_CONF"; return 0; }
    sleep 0.5
  done
  fail "the node did not become idle within 60 s (state: ${state:-none})"
}

case "$cmd" in
  start) start ;;
  stop) stop_all; exit 0 ;;
  *) echo "usage: $0 {start|stop} [STATE_DIR]" >&2; exit 2 ;;
esac
