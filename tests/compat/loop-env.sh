# Shared setup of the compat scripts (sourced, bash): sparse images on loop devices, a
# private LVM_SYSTEM_DIR whose global_filter accepts exactly those devices, an lvmetad on
# a private socket, and the per-step recorder. No device-mapper is used: activation = 0,
# LVs must be created with -an -Zn.
#
# After sourcing, the caller sets OUT (results directory, created) and calls
# (a scenario script: le_scenario_args "$@" sets LVM, DAEMON and OUT):
#   le_need_root_loops            skip (exit 0) without root, losetup or loop support
#   le_setup N                    N sparse 32 MiB images on loop devices -> DEVS[0..N-1],
#                                 WORK (temp dir), OUT/devices.txt; LOOP_DEVS (N paths,
#                                 must be free) picks the devices, else the first free ones
#   le_setup_files FILE...        the same with copies of image files (.zst: zstd -dc)
#   le_write_conf [DEV...]        WORK/conf/lvm.conf with a global_filter accepting the
#                                 given devices (default: all of DEVS); OUT/lvm.conf
#                                 (first call only) with WORK replaced by <work>
#   le_start_daemon BIN           BIN -f -s SOCKET -p PIDFILE -l fatal,error,warn
#                                 (stderr to OUT/daemon.log)
#   step NAME CMD...              run CMD, record NN-NAME.{cmd,out,err,rc} then the daemon's
#                                 dump and get_global_info (NN-NAME.{dump,info})
#   ask REQUEST [LINE...]         print the daemon's reply to REQUEST (token "skip",
#                                 then the given request lines)
#   le_daemon_check               note (OUT/daemon-died.txt) if the daemon exited
# Cleanup (daemon, loop devices, WORK) runs on exit.

le_skip() {
    echo "SKIP: $*"
    exit 0
}

le_need_root_loops() {
    [ "$(id -u)" = 0 ] || le_skip "needs root (loop devices)"
    command -v losetup >/dev/null || le_skip "losetup not available"
    [ -e /dev/loop-control ] || le_skip "no /dev/loop-control (no loop device support)"
    command -v python3 >/dev/null || le_skip "python3 not available (used to talk to the socket)"
}

# The arguments of a scenario script: LVM and DAEMON (executables, from the environment)
# and OUT (its first argument); skips without root or loop devices.
le_scenario_args() {
    LVM=${LVM:?set LVM to the lvm binary}
    DAEMON=${DAEMON:?set DAEMON to the lvmetad binary}
    OUT=${1:?usage: LVM=... DAEMON=... $0 OUTDIR}
    [ -x "$LVM" ] || { echo "ERROR: LVM $LVM is not executable" >&2; exit 2; }
    [ -x "$DAEMON" ] || { echo "ERROR: DAEMON $DAEMON is not executable" >&2; exit 2; }
    le_need_root_loops
}

DEVS=()
DPID=
WORK=
N=0

le_cleanup() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    for d in "${DEVS[@]}"; do
        losetup -d "$d" 2>/dev/null
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap le_cleanup EXIT
trap 'exit 130' INT TERM

le_setup() {
    local n=$1 i
    le_workdir
    for ((i = 0; i < n; i++)); do
        truncate -s 32M "$WORK/pv$i.img" || { echo "ERROR: cannot create image files in $WORK" >&2; exit 2; }
    done
    le_attach "$n"
}

# le_setup_files FILE...: as le_setup, with copies of the given images (FILE.zst is
# decompressed) as pv0.img, pv1.img, ... in that order.
le_setup_files() {
    local i=0 f
    le_workdir
    for f in "$@"; do
        case $f in
            *.zst) zstd -q -dc "$f" > "$WORK/pv$i.img" ;;
            *) cp "$f" "$WORK/pv$i.img" ;;
        esac || { echo "ERROR: cannot copy $f to $WORK" >&2; exit 2; }
        i=$((i + 1))
    done
    le_attach "$i"
}

le_workdir() {
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    rm -f "$OUT"/[0-9][0-9]-* "$OUT/daemon-died.txt"
    WORK=$(mktemp -d /tmp/lvmetad-compat.XXXXXX)
}

# le_attach N: WORK/pv0.img .. pv<N-1>.img on loop devices
le_attach() {
    local n=$1 i d
    if [ -n "${LOOP_DEVS:-}" ]; then
        i=0
        for d in $LOOP_DEVS; do
            [ $i -lt "$n" ] || { echo "ERROR: LOOP_DEVS names more than $n devices" >&2; exit 2; }
            losetup "$d" "$WORK/pv$i.img" 2>/dev/null || le_skip "cannot attach $d (busy or unavailable)"
            DEVS+=("$d")
            i=$((i + 1))
        done
        [ ${#DEVS[@]} = "$n" ] || { echo "ERROR: LOOP_DEVS must name $n devices" >&2; exit 2; }
    else
        for ((i = 0; i < n; i++)); do
            d=$(losetup -f --show "$WORK/pv$i.img" 2>/dev/null) || le_skip "cannot attach a loop device"
            DEVS+=("$d")
        done
    fi
    printf '%s\n' "${DEVS[@]}" > "$OUT/devices.txt"

    mkdir -p "$WORK/conf" "$WORK/lock"
    export LVM_SYSTEM_DIR=$WORK/conf
    export LVM_LVMETAD_SOCKET=$WORK/lvmetad.socket
    export LVM_LVMETAD_PIDFILE=$WORK/lvmetad.pid
    export LVM_SUPPRESS_FD_WARNINGS=1
    export LC_ALL=C
}

le_write_conf() {
    local filter="" d devs=("$@")
    [ ${#devs[@]} -gt 0 ] || devs=("${DEVS[@]}")
    for d in "${devs[@]}"; do
        filter="$filter\"a|^$d\$|\", "
    done
    cat > "$WORK/conf/lvm.conf" <<EOC
devices {
	dir = "/dev"
	scan = [ "/dev" ]
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
	global_filter = [ ${filter}"r|.*|" ]
}
global {
	use_lvmetad = 1
	locking_type = 1
	locking_dir = "$WORK/lock"
	use_lvmpolld = 0
	activation = 0
}
activation {
	udev_sync = 0
	udev_rules = 0
	verify_udev_operations = 0
	monitoring = 0
}
backup {
	backup = 0
	archive = 0
}
EOC
    [ -e "$OUT/lvm.conf" ] || sed "s|$WORK|<work>|g" "$WORK/conf/lvm.conf" > "$OUT/lvm.conf"
}

le_start_daemon() {
    local bin=$1
    "$bin" -f -s "$LVM_LVMETAD_SOCKET" -p "$LVM_LVMETAD_PIDFILE" -l fatal,error,warn \
        </dev/null >"$OUT/daemon.log" 2>&1 &
    DPID=$!
    for _ in $(seq 100); do
        [ -S "$LVM_LVMETAD_SOCKET" ] && break
        sleep 0.05
    done
    [ -S "$LVM_LVMETAD_SOCKET" ] || { echo "ERROR: $bin did not create its socket" >&2; exit 2; }
}

# ask(REQUEST [LINE...]): send `request = "REQUEST"`, `token = "skip"` and the given
# lines (e.g. 'name = "vg0"'), print the reply (terminator included)
ask() {
    python3 - "$LVM_LVMETAD_SOCKET" "$@" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
extra = b"".join(a.encode() + b"\n" for a in sys.argv[3:])
s.sendall(b'request = "%s"\ntoken = "skip"\n%s\n##\n' % (sys.argv[2].encode(), extra))
buf = b""
while not buf.endswith(b"\n##\n"):
    c = s.recv(65536)
    if not c:
        break
    buf += c
sys.stdout.buffer.write(buf)
EOP
}

step() {
    local name=$1
    shift
    N=$((N + 1))
    local base
    base=$(printf '%s/%02d-%s' "$OUT" "$N" "$name")
    echo "$*" > "$base.cmd"
    "$@" > "$base.out" 2> "$base.err"
    echo $? > "$base.rc"
    ask dump > "$base.dump" 2>>"$OUT/dump-errors.log"
    ask get_global_info > "$base.info" 2>>"$OUT/dump-errors.log"
    printf '%02d %-28s rc=%s\n' "$N" "$name" "$(cat "$base.rc")"
}

le_daemon_check() {
    if kill -0 "$DPID" 2>/dev/null; then
        echo "daemon still running after the last command"
    else
        wait "$DPID"
        echo "DAEMON EXITED during the run (status $?)" | tee "$OUT/daemon-died.txt"
    fi
}
