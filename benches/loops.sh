# Shared setup of the loop-device benchmarks (sourced, bash; the caller defines the
# array `loops` and detaches its entries on exit).
#   bench_loops DIR N   DIR/{img,dev,etc,lock}; N sparse 8 MiB images on loop devices,
#                       appended to `loops`, with symlinks DIR/dev/pv0..pvN-1: a private
#                       directory the scan sees exactly these devices through
#   bench_conf DIR      DIR/etc/lvm.conf accepting exactly DIR/dev/*, lvmetad in use,
#                       file locking in DIR/lock, no activation, no backups

bench_loops() {
    local dir=$1 n=$2 i l
    mkdir -p "$dir/img" "$dir/dev" "$dir/etc" "$dir/lock"
    for i in $(seq 0 $((n-1))); do
        truncate -s 8M "$dir/img/$i.img"
        l=$(losetup -f --show "$dir/img/$i.img")
        loops+=("$l")
        ln -s "$l" "$dir/dev/pv$i"
    done
}

bench_conf() {
    local dir=$1
    cat > "$dir/etc/lvm.conf" <<EOC
devices { dir = "/dev" scan = [ "$dir/dev" ] obtain_device_list_from_udev = 0
          external_device_info_source = "none" global_filter = [ "a|^$dir/dev/|", "r|.*|" ] }
global { use_lvmetad = 1 locking_type = 1 locking_dir = "$dir/lock" use_lvmpolld = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOC
}

# bench_dm_once DIR: on a kernel without device-mapper, LVM's libdevmapper rereads
# /proc/devices on every dm_is_dm_major() call (benches/c/dm_major_once.c says why); that
# cost exists on no real LVM system and dominates a boot storm. Unless DM_ONCE=0, build
# the shim into DIR and set lvm_preload to an LD_PRELOAD value with it, which the scripts
# give to every `lvm` they start (stock and ours) and to nothing else, so that each reads
# /proc/devices once. DM_ONCE=1 forces it; with device-mapper loaded, the auto default
# does nothing. Sets dm_note to the line the scripts print. Needs a C compiler (cc).
bench_dm_once() {
    local dir=$1 top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    lvm_preload=${LD_PRELOAD:-}
    dm_note="DM_ONCE=0: libdevmapper as it runs on this kernel"
    case ${DM_ONCE:-auto} in
    0) return ;;
    auto) grep -q ' device-mapper$' /proc/devices && {
              dm_note="device-mapper loaded: libdevmapper unchanged"; return; } ;;
    esac
    command -v cc >/dev/null || { echo "bench_dm_once: no C compiler (cc); install one or set DM_ONCE=0" >&2; exit 2; }
    cc -O2 -shared -fPIC -o "$dir/dm_major_once.so" "$top/benches/c/dm_major_once.c"
    lvm_preload=$dir/dm_major_once.so${LD_PRELOAD:+:$LD_PRELOAD}
    dm_note="no device-mapper in this kernel: /proc/devices read once per lvm (DM_ONCE=0 to measure without)"
}
