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
