#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for tests/cluster/test_slurm.py (run as root).
#
# Installs slurm-wlm, munge, slurmdbd and MariaDB with apt (Debian 12: SLURM 22.05), writes
# slurm.conf / slurmdbd.conf for this host, and starts munged, mariadbd, slurmdbd,
# slurmctld and slurmd in the background without systemd. Idempotent: daemons already
# running are left alone. Ends when `sinfo` shows the node idle (or fails, naming the log).
#
#   sudo tests/cluster/slurm_up.sh          # then: sbatch, squeue, sacct, scancel work
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "slurm_up.sh: must run as root (apt-get install and daemons)" >&2
  exit 1
fi

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
LOG=/var/log/slurm
export DEBIAN_FRONTEND=noninteractive

if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null \
   || ! command -v mariadbd >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq slurm-wlm slurmdbd munge mariadb-server >/dev/null
fi

mkdir -p /etc/slurm "$LOG" /var/spool/slurmctld /var/spool/slurmd /run/munge /run/mysqld
chown slurm:slurm "$LOG" /var/spool/slurmctld /var/spool/slurmd 2>/dev/null || true
chown munge:munge /run/munge
chown mysql:mysql /run/mysqld

# munge: one key for this host, then the daemon
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# MariaDB for slurmdbd (job accounting: sacct)
if ! pgrep -x mariadbd >/dev/null; then
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  (runuser -u mysql -- /usr/sbin/mariadbd --socket=/run/mysqld/mysqld.sock \
     >"$LOG/mariadb.log" 2>&1 &)
  for _ in $(seq 60); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
fi
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmdbpass';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

cat >/etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
LogFile=$LOG/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmdbpass
StorageLoc=slurm_acct_db
EOF
chown slurm:slurm /etc/slurm/slurmdbd.conf && chmod 600 /etc/slurm/slurmdbd.conf

cat >/etc/slurm/slurm.conf <<EOF
ClusterName=localcluster
SlurmctldHost=$HOST
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MaxArraySize=10001
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
MpiDefault=none
KillWait=5
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF

pgrep -x slurmdbd >/dev/null || /usr/sbin/slurmdbd
for _ in $(seq 60); do sacctmgr -i -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
clusters=$(sacctmgr -i -n list cluster format=cluster%40 2>/dev/null || true)
[[ "$clusters" == *localcluster* ]] || sacctmgr -i add cluster localcluster >/dev/null
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

for _ in $(seq 120); do
  state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
  case "$state" in idle*|mix*|alloc*) echo "slurm up: node $HOST $state, $CPUS CPUs"; exit 0;; esac
  [ "$state" = "down" ] || [ "$state" = "drain" ] && scontrol update nodename="$HOST" state=resume 2>/dev/null || true
  sleep 0.5
done
echo "slurm_up.sh: node $HOST not idle (state '${state:-none}'); see $LOG/slurmctld.log, $LOG/slurmd.log" >&2
exit 1
