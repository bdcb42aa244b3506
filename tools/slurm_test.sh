#!/usr/bin/env bash
# Run the bundled review through a real single-node Slurm cluster and check it.
#
#   make slurm-test        (needs root on a Debian machine; not part of `make test`)
#
# 1. apt-installs slurm-wlm, munge, mariadb-server and slurmdbd (if missing);
# 2. starts munged (as the munge user), MariaDB, slurmdbd (accounting: the executor plugin
#    asks sacct for job states), slurmctld and slurmd (as root, proctrack/linuxproc,
#    task/none) with a minimal slurm.conf for this node (CPUs from nproc, memory from free);
# 3. runs the bundled review in a scratch copy with --executor slurm and the workflow profile
#    workflow/profiles/slurm, and the same review locally in a second copy;
# 4. checks that both give byte-identical outputs and that every job went through
#    sbatch/sacct (sacct lists one COMPLETED job per Snakemake job);
# 5. stops every daemon it started (by pid) and removes its scratch folders.
#
# Config and state live under $SLURM_TEST_DIR (default /tmp/metareview-slurm); system files
# written: /etc/slurm/slurm.conf and /etc/slurm/slurmdbd.conf (backed up and restored when
# they existed before).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${METAREVIEW_BIN:-$REPO/.venv-slurm/bin}"  # make slurm-setup; another venv: METAREVIEW_BIN=/path/to/venv/bin
BASE="${SLURM_TEST_DIR:-/tmp/metareview-slurm}"
CLUSTER=metareview
HOST="$(hostname -s)"
DB_PASS="metareview-slurm-test"
PIDS=()

log() { printf '[slurm-test] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (starts slurmctld, slurmd, slurmdbd, MariaDB, munged)"
[ -x "$BIN/snakemake" ] || fail "run 'make slurm-setup' first"

install_packages() {
  local missing=()
  for cmd in slurmctld slurmd slurmdbd sacct munged mariadbd; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$cmd")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing slurm-wlm munge mariadb-server slurmdbd (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
      slurm-wlm slurm-client munge mariadb-server slurmdbd >/dev/null
  fi
}

stop_all() {
  local status=$?
  log "stopping the cluster"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
  for f in slurm.conf slurmdbd.conf; do
    if [ -f "$BASE/backup/$f" ]; then cp -p "$BASE/backup/$f" "/etc/slurm/$f"; else rm -f "/etc/slurm/$f"; fi
  done
  if [ "$status" -eq 0 ]; then rm -rf "$BASE"; else log "state kept in $BASE (logs in $BASE/log)"; fi
  exit "$status"
}

pid_of_file() { # wait for a daemon's pid file and record the pid
  local file=$1 name=$2
  for _ in $(seq 1 100); do
    if [ -s "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then PIDS+=("$(cat "$file")"); return; fi
    sleep 0.2
  done
  fail "$name did not start (see $BASE/log)"
}

write_configs() {
  local mem cpus
  cpus="$(nproc)"
  mem="$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')"
  mkdir -p "$BASE"/{log,run,spool/ctld,spool/d,backup}
  for f in slurm.conf slurmdbd.conf; do
    [ -f "/etc/slurm/$f" ] && cp -p "/etc/slurm/$f" "$BASE/backup/$f"
  done
  cat >/etc/slurm/slurm.conf <<EOF
# Written by tools/slurm_test.sh: a single-node test cluster.
ClusterName=$CLUSTER
SlurmctldHost=$HOST
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=$BASE/spool/ctld
SlurmdSpoolDir=$BASE/spool/d
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  cat >/etc/slurm/slurmdbd.conf <<EOF
# Written by tools/slurm_test.sh.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$BASE/run/slurmdbd.pid
LogFile=$BASE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
  chmod 600 /etc/slurm/slurmdbd.conf
}

start_munge() {
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile /etc/munge/munge.key && chown munge:munge /etc/munge/munge.key
  fi
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid --force
  pid_of_file /run/munge/munged.pid munged
  munge -n | unmunge >/dev/null || fail "munge round trip"
}

start_mariadb() {
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  runuser -u mysql -- mariadbd --pid-file=/run/mysqld/metareview-test.pid \
    --socket=/run/mysqld/mysqld.sock --skip-networking=0 --bind-address=127.0.0.1 \
    >"$BASE/log/mariadb.log" 2>&1 &
  pid_of_file /run/mysqld/metareview-test.pid mariadbd
  for _ in $(seq 1 50); do mariadb -e "select 1" >/dev/null 2>&1 && break; sleep 0.2; done
  mariadb <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

start_slurm() {
  slurmdbd
  pid_of_file "$BASE/run/slurmdbd.pid" slurmdbd
  for _ in $(seq 1 50); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
  sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
  sacctmgr -i add account metareview Cluster="$CLUSTER" >/dev/null 2>&1 || true
  sacctmgr -i add user root Account=metareview Cluster="$CLUSTER" >/dev/null 2>&1 || true
  slurmctld
  pid_of_file "$BASE/run/slurmctld.pid" slurmctld
  slurmd
  pid_of_file "$BASE/run/slurmd.pid" slurmd
  for _ in $(seq 1 100); do
    sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)' && return
    sleep 0.3
  done
  sinfo >&2 || true
  fail "the node did not become idle"
}

scratch_review() { # copy the bundled review's inputs into $1
  mkdir -p "$1/data"
  cp -r "$REPO/data/raw" "$1/data/raw"
  cp "$REPO/config.yaml" "$1/config.yaml"
}

run_review() {
  local started ok
  scratch_review "$BASE/local"
  scratch_review "$BASE/slurm"
  log "local run"
  "$BIN/snakemake" --snakefile "$REPO/Snakefile" --directory "$BASE/local" --cores 2 --quiet \
    >"$BASE/log/local.log" 2>&1 || fail "local run (see $BASE/log/local.log)"
  started="$(date +%Y-%m-%dT%H:%M:%S)"
  log "slurm run (--executor slurm --workflow-profile workflow/profiles/slurm)"
  (cd "$BASE/slurm" && "$BIN/snakemake" --snakefile "$REPO/Snakefile" --directory "$BASE/slurm" \
    --workflow-profile "$REPO/workflow/profiles/slurm" --executor slurm --jobs 4 \
    --default-resources slurm_account=metareview slurm_partition=main \
    >"$BASE/log/snakemake-slurm.log" 2>&1) || fail "slurm run (see $BASE/log/snakemake-slurm.log)"

  log "comparing outputs"
  ok=1
  while IFS= read -r rel; do
    cmp -s "$BASE/local/$rel" "$BASE/slurm/$rel" || { log "differs: $rel"; ok=0; }
  done < <(cd "$BASE/local" && find results data/processed -type f | sort)
  diff <(cd "$BASE/local" && find results data/processed -type f | sort) \
    <(cd "$BASE/slurm" && find results data/processed -type f | sort) >&2 || ok=0
  [ "$ok" -eq 1 ] || fail "the slurm run's outputs differ from the local run's"
  log "outputs byte-identical ($(cd "$BASE/local" && find results data/processed -type f | wc -l) files)"

  local expected completed
  # Jobs Snakemake sent to sbatch (the target rule `all` runs locally and is not counted).
  expected="$(grep -c 'has been submitted with SLURM jobid' "$BASE/log/snakemake-slurm.log" || true)"
  completed="$(sacct -X -n -P -S "$started" -o JobID,JobName,State | tee "$BASE/log/sacct.txt" | grep -c '|COMPLETED$' || true)"
  log "sacct lists $completed COMPLETED jobs since $started; Snakemake submitted $expected"
  [ "$completed" -gt 0 ] || fail "sacct lists no completed job"
  [ "$completed" -ge "$expected" ] || fail "fewer completed Slurm jobs than Snakemake jobs"
}

install_packages
rm -rf "$BASE"
trap stop_all EXIT
write_configs
start_munge
start_mariadb
start_slurm
run_review
log "PASSED: the bundled review ran through Slurm (sbatch/sacct) with byte-identical results"
