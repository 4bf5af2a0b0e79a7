# Shell functions of the guest-side NVMe/TCP host tests (kernel-host-test.sh,
# failing-drives-test.sh): progress and failure markers, the console protocol with the host
# (host_request), finding controllers and namespaces, verified fio jobs. QemuGuest puts this file at
# /nvme-host-lib.sh in every guest; a script sources it after /etc/basalt-lib.sh and /params.
# Defaults a script may set before calling: WAIT_SECS, HOST_WAIT_SECS (90/300 s bounds on waits),
# FIO_TIMEOUT_SECS (900 s bound on one fio run).

step() { echo "BASALT-STEP $*"; }

lower() { echo "$1" | tr 'A-F' 'a-f'; }

diagnostics() {
    echo "---- diagnostics ----"
    nvme list 2>&1
    for c in /sys/class/nvme/nvme*; do
        [ -e "$c" ] || continue
        echo "$(basename "$c"): state=$(cat "$c/state" 2>/dev/null) subsysnqn=$(cat "$c/subsysnqn" 2>/dev/null) address=$(cat "$c/address" 2>/dev/null) cntlid=$(cat "$c/cntlid" 2>/dev/null)"
    done
    for b in /sys/block/nvme*; do
        [ -e "$b" ] || continue
        echo "$(basename "$b"): uuid=$(cat "$b/uuid" 2>/dev/null) size=$(cat "$b/size" 2>/dev/null)"
    done
    echo "---- dmesg (tail) ----"
    dmesg | tail -n 60
    echo "---- end of diagnostics ----"
}

fail() {
    echo "BASALT-TEST-FAIL $*"
    diagnostics
    nvme disconnect-all >/dev/null 2>&1
    exit 1
}

# host_request NAME: ask the host to do something and wait (bounded) for "go NAME".
# A self-check hook may define after_host_request NAME to act as the host itself.
host_request() {
    echo "BASALT-REQUEST $1"
    deadline=$(( $(date +%s) + HOST_WAIT_SECS ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        line=""
        # shellcheck disable=SC3045 # busybox ash has read -t
        if read -t 5 -r line; then
            line="$(echo "$line" | tr -d '\r')"
            case "$line" in
                "go $1") echo "host answered: $line"
                         if type after_host_request >/dev/null 2>&1; then after_host_request "$1"; fi
                         return 0 ;;
                "fail "*) fail "host could not do '$1': ${line#fail }" ;;
                "") ;;
                *) echo "ignoring console input: $line" ;;
            esac
        fi
    done
    fail "no 'go $1' from the host within ${HOST_WAIT_SECS}s"
}

# visible (multipath head) block devices only: nvmeXnY, never the hidden per-path nvmeXcZnY
visible_namespaces() {
    for b in /sys/block/nvme*n*; do
        [ -e "$b" ] || continue
        case "$(basename "$b")" in
            nvme*c*n*) ;;
            *) echo "$(basename "$b")" ;;
        esac
    done
}

# ns_by_uuid UUID: prints the visible block device name whose namespace uuid is UUID
ns_by_uuid() {
    want="$(lower "$1")"
    for n in $(visible_namespaces); do
        if [ "$(lower "$(cat "/sys/block/$n/uuid" 2>/dev/null)")" = "$want" ]; then
            echo "$n"
            return 0
        fi
    done
    return 1
}

# wait_ns_by_uuid UUID SECS: waits for the namespace to appear, prints its block device name
wait_ns_by_uuid() {
    deadline=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if n="$(ns_by_uuid "$1")"; then
            echo "$n"
            return 0
        fi
        sleep 1
    done
    return 1
}

# ctrl_for_subsys: prints the controller (nvmeX) connected to SUBNQN over tcp
ctrl_for_subsys() {
    for c in /sys/class/nvme/nvme*; do
        [ -e "$c" ] || continue
        if [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$SUBNQN" ] && [ "$(cat "$c/transport" 2>/dev/null)" = "tcp" ]; then
            basename "$c"
            return 0
        fi
    done
    return 1
}

# wait_ctrl_live SECS: waits for a live controller of SUBNQN, prints its name
wait_ctrl_live() {
    deadline=$(( $(date +%s) + $1 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if c="$(ctrl_for_subsys)" && [ "$(cat "/sys/class/nvme/$c/state" 2>/dev/null)" = "live" ]; then
            echo "$c"
            return 0
        fi
        sleep 1
    done
    return 1
}

# fio_job NAME DEVICE SIZE_MB SEED MODE [OFFSET_MB]
#   MODE write:       random writes, fsync at the end, then read back and verify
#        write-flush: random writes, fsync at the end (a Flush to the target), no read back
#        verify:      only the verify pass of the same job (same name, size, offset and seed)
fio_job() {
    name="$1" dev="$2" size="$3" seed="$4" mode="$5" offset="${6:-0}"
    set -- --name="$name" --filename="/dev/$dev" --ioengine=libaio --direct=1 \
        --rw=randwrite --bsrange=4k-1m --iodepth=16 --offset="${offset}m" --size="${size}m" \
        --randrepeat=1 --randseed="$seed" \
        --verify=crc32c --verify_fatal=1 --verify_dump=0 --eta=never
    case "$mode" in
        verify) set -- "$@" --verify_only=1 ;;
        write-flush) set -- "$@" --do_verify=0 --end_fsync=1 ;;
        *) set -- "$@" --do_verify=1 --end_fsync=1 ;;
    esac
    echo "fio $*"
    start=$(date +%s)
    timeout -s KILL "$FIO_TIMEOUT_SECS" fio "$@" </dev/null > /tmp/fio.out 2>&1
    rc=$?
    grep -E 'err=|WRITE:|READ:|verify|bad|fail' /tmp/fio.out | head -n 30
    echo "fio $name: rc=$rc in $(( $(date +%s) - start ))s"
    if [ $rc -ne 0 ]; then
        cat /tmp/fio.out | tail -n 60
        return 1
    fi
    return 0
}
