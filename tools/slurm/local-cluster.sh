#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for trying the pipeline's `-profile slurm` and for the test suite.
#
#   tools/slurm/local-cluster.sh start DIR   # config, state, logs and munge key under DIR; waits for the node
#   source DIR/env                           # SLURM_CONF for sbatch/squeue/sinfo/sacct (and Nextflow)
#   tools/slurm/local-cluster.sh stop DIR    # cancel jobs, stop the daemons by the PIDs in DIR/run/
#
# Needs root (slurmd runs jobs as their owner) and Debian's `slurm-wlm` and `munge` packages. Nothing
# outside DIR is touched: the daemons get their own ports, their own munge socket and key, and no cgroups
# (proctrack/linuxproc, task/none), so it also works inside containers. The node has partitions `cpu`
# (default) and `gpu` (the names conf/slurm.config uses) and two placeholder GPUs: SLURM hands them out
# with `--gres=gpu:1` and sets CUDA_VISIBLE_DEVICES, but no real device is behind them.
#
# Exit codes: 0 done, 2 usage, 3 cannot run here (not root, packages missing), 1 anything else.
set -euo pipefail

NODE_NAME=localnode
WAIT_SECONDS=120
DAEMONS=(slurmd slurmctld munged) # stop order: the node first, munge last

usage() {
    echo "usage: $0 start|stop|status DIR" >&2
    exit 2
}

cannot_run() {
    echo "local-cluster: $*" >&2
    exit 3
}

check_host() {
    [[ "$(id -u)" == 0 ]] || cannot_run "needs root (slurmd starts jobs as their owner)"
    local tool missing=()
    for tool in munged mungekey slurmctld slurmd sinfo sbatch; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) || cannot_run "missing ${missing[*]} (Debian: apt-get install slurm-wlm munge)"
}

# Two TCP ports free right now (held together while asked for, so they differ).
free_ports() {
    python3 -c '
import socket
held = [socket.socket() for _ in range(2)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))'
}

write_config() {
    local dir="$1" host cpus memory_mb ctld_port node_port
    host="$(hostname -s)" # slurmctld only starts on the host that SlurmctldHost names
    cpus="$(nproc)"
    memory_mb="$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)"
    read -r ctld_port node_port < <(free_ports)
    # Character devices with the NVIDIA major number (195): SLURM accepts nothing else in gres.conf.
    # Nothing opens them; they only give SLURM two GPUs to hand out.
    mknod "$dir/dev/nvidia0" c 195 0
    mknod "$dir/dev/nvidia1" c 195 1
    cat >"$dir/etc/slurm.conf" <<EOF
# One-node test cluster written by tools/slurm/local-cluster.sh; everything lives under $dir.
ClusterName=virnucpro-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$node_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.daemon.pid
SlurmdPidFile=$dir/run/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups: processes are tracked through /proc, and nothing is confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
# Cores are the consumable resource; memory is checked against the node's size, not reserved.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
GresTypes=gpu
# No slurmdbd: finished jobs are written to a text file, which sacct --completion reads.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
# The node is what this file says, whatever the hardware (placeholder GPUs, declared memory).
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=10
# Finished jobs stay visible to scontrol show job for an hour (what they asked for and were given).
MinJobAge=3600
NodeName=$NODE_NAME NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=$NODE_NAME Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE_NAME MaxTime=INFINITE State=UP
EOF
    cat >"$dir/etc/gres.conf" <<EOF
NodeName=$NODE_NAME Name=gpu File=$dir/dev/nvidia[0-1]
EOF
    echo "export SLURM_CONF=$dir/etc/slurm.conf" >"$dir/env"
}

start_munge() {
    local dir="$1"
    mungekey --create --keyfile="$dir/munge/munge.key"
    chmod 0400 "$dir/munge/munge.key"
    # --force: the key may sit below a world-writable directory such as /tmp.
    launch "$dir" munged munged --foreground --force --key-file="$dir/munge/munge.key" \
        --socket="$dir/munge/munge.socket" --pid-file="$dir/run/munged.daemon.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed"
    wait_for "$dir/munge/munge.socket"
}

# Run a daemon in the foreground, in its own session (so it outlives this script and a Ctrl-C of the
# caller), and record its PID at once: `stop` ends exactly these processes.
launch() {
    local dir="$1" name="$2"
    shift 2
    setsid "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
    echo "$!" >"$dir/run/$name.pid"
}

wait_for() {
    local path="$1" deadline=$((SECONDS + 30))
    until [[ -e "$path" ]]; do
        ((SECONDS < deadline)) || { echo "local-cluster: $path did not appear" >&2; return 1; }
        sleep 0.1
    done
}

# Running: the process exists and is not a zombie (an exited daemon whose parent has not reaped it yet).
alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ "${stat##*) }" != Z* ]]
}

daemons_alive() {
    local dir="$1" name
    for name in "${DAEMONS[@]}"; do
        [[ -s "$dir/run/$name.pid" ]] && alive "$(cat "$dir/run/$name.pid")" || return 1
    done
}

wait_for_idle_node() {
    local dir="$1" state deadline=$((SECONDS + WAIT_SECONDS))
    while ((SECONDS < deadline)); do
        daemons_alive "$dir" || { echo "local-cluster: a daemon stopped; see $dir/log" >&2; return 1; }
        state="$(SLURM_CONF="$dir/etc/slurm.conf" sinfo --noheader --nodes="$NODE_NAME" --format=%T 2>/dev/null |
            sort -u | head -n1)" || true
        [[ "$state" == idle ]] && return 0
        sleep 0.5
    done
    echo "local-cluster: node $NODE_NAME not idle after ${WAIT_SECONDS}s (state: ${state:-none}); see $dir/log" >&2
    return 1
}

start() {
    local dir="$1"
    check_host
    [[ ! -e "$dir/run/slurmctld.pid" ]] || { echo "local-cluster: $dir already holds a cluster" >&2; exit 1; }
    mkdir -p "$dir"/{etc,state,spool,log,run,munge,dev}
    chmod 0700 "$dir/munge"
    # Whatever fails from here on, stop what was started.
    trap "stop $(printf %q "$dir")" EXIT
    write_config "$dir"
    start_munge "$dir"
    launch "$dir" slurmctld slurmctld -D -f "$dir/etc/slurm.conf"
    launch "$dir" slurmd slurmd -D -f "$dir/etc/slurm.conf" -N "$NODE_NAME"
    wait_for_idle_node "$dir"
    trap - EXIT
    echo "local-cluster: node $NODE_NAME idle; partitions cpu, gpu; run: source $dir/env"
}

wait_until_gone() {
    local pid="$1" deadline=$((SECONDS + $2))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    ! alive "$pid"
}

stop_pid() {
    local name="$1" pid="$2"
    alive "$pid" || return 0
    kill -TERM "$pid"
    wait_until_gone "$pid" 30 && return 0
    echo "local-cluster: $name ($pid) ignored SIGTERM for 30 s; sending SIGKILL" >&2
    kill -KILL "$pid"
    wait_until_gone "$pid" 10
}

# Jobs still queued or running (what slurmd and the job steps would otherwise leave behind).
active_jobs() {
    squeue --noheader --format=%i --states=PENDING,CONFIGURING,RUNNING,SUSPENDED,COMPLETING 2>/dev/null
}

cancel_jobs() {
    local dir="$1" deadline=$((SECONDS + 30)) jobs
    export SLURM_CONF="$dir/etc/slurm.conf"
    mapfile -t jobs < <(active_jobs)
    ((${#jobs[@]} == 0)) && return 0
    scancel "${jobs[@]}" || true
    while [[ -n "$(active_jobs)" ]] && ((SECONDS < deadline)); do sleep 0.2; done
}

stop() {
    local dir="$1" name pidfile
    [[ -d "$dir/run" ]] || { echo "local-cluster: no cluster in $dir" >&2; exit 1; }
    if [[ -f "$dir/run/slurmctld.pid" ]] && alive "$(cat "$dir/run/slurmctld.pid")"; then
        cancel_jobs "$dir"
    fi
    for name in "${DAEMONS[@]}"; do
        pidfile="$dir/run/$name.pid"
        [[ -s "$pidfile" ]] && stop_pid "$name" "$(cat "$pidfile")"
        rm -f "$pidfile"
    done
}

status() {
    local dir="$1" name pidfile code=0
    for name in "${DAEMONS[@]}"; do
        pidfile="$dir/run/$name.pid"
        if [[ -s "$pidfile" ]] && alive "$(cat "$pidfile")"; then
            echo "$name running (pid $(cat "$pidfile"))"
        else
            echo "$name not running"
            code=1
        fi
    done
    return "$code"
}

(($# == 2)) || usage
case "$1" in
start) start "$(realpath -m "$2")" ;;
stop) stop "$(realpath -m "$2")" ;;
status) status "$(realpath -m "$2")" ;;
*) usage ;;
esac
