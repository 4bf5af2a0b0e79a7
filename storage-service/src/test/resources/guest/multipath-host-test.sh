#!/bin/sh
# KernelMultipathTest, guest side: Linux's native NVMe multipath against one subsystem reached
# through two ports of Basalt's target, the ANA state of the namespace's group optimized through
# port A and inaccessible through port B. While fio writes with verification the host flips the
# states; the kernel must follow the ANA change notice, fio must see no error and the writes must
# move to port B's path.
#
# Parameters (from /params):
#   TARGET_ADDR   address of the target as seen from the guest (10.0.2.2 = host loopback)
#   PORT_A PORT_B the two ports; SUBNQN the subsystem; NS_UUID its namespace (ANA group ANA_GROUP)
#   FIO_SECS      how long fio writes (default 90); the flip must happen while it runs
#   WAIT_SECS     bound for each "wait until" (default 60)
# Protocol: the guest prints "BASALT-ANA-FLIP" once fio writes through port A; the host then makes
# port B optimized and port A inaccessible. Progress "BASALT-STEP <text>"; failure
# "BASALT-TEST-FAIL <reason>" then exit 1.

. /etc/basalt-lib.sh
. /params

WAIT_SECS="${WAIT_SECS:-60}"
FIO_SECS="${FIO_SECS:-90}"

step() { echo "BASALT-STEP $*"; }

fail() {
    echo "BASALT-TEST-FAIL $*"
    nvme list-subsys 2>&1
    for p in /sys/class/nvme/nvme*/nvme*c*n*; do
        [ -e "$p" ] && echo "$(basename "$p"): ana_state=$(cat "$p/ana_state" 2>/dev/null) stat=$(cat "$p/stat")"
    done
    dmesg | tail -n 40
    [ -f /tmp/fio.out ] && cat /tmp/fio.out
    nvme disconnect-all >/dev/null 2>&1
    exit 1
}

# path PORT: the sysfs folder of the hidden per-path block device (nvmeXcYnZ, not in /sys/block) of
# the controller connected through PORT
path() {
    for c in /sys/class/nvme/nvme*; do
        [ -e "$c" ] || continue
        case "$(cat "$c/address" 2>/dev/null)" in
            *"trsvcid=$1,"*|*"trsvcid=$1")
                for p in "$c"/nvme*c*n*; do
                    [ -e "$p" ] && { echo "$p"; return 0; }
                done ;;
        esac
    done
    return 1
}

ana_state() { cat "$1/ana_state" 2>/dev/null; }

writes() { awk '{print $5}' "$1/stat"; }

# wait_states A_STATE B_STATE: waits until the two paths report these ANA states
wait_states() {
    deadline=$(( $(date +%s) + WAIT_SECS ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        [ "$(ana_state "$A")" = "$1" ] && [ "$(ana_state "$B")" = "$2" ] && return 0
        sleep 1
    done
    return 1
}

[ "$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" = "Y" ] || fail "nvme_core.multipath is not Y"

step "connect through both ports"
nvme connect -t tcp -a "$TARGET_ADDR" -s "$PORT_A" -n "$SUBNQN" || fail "nvme connect to port A failed"
nvme connect -t tcp -a "$TARGET_ADDR" -s "$PORT_B" -n "$SUBNQN" || fail "nvme connect to port B failed"

want="$(echo "$NS_UUID" | tr 'A-F' 'a-f')"
deadline=$(( $(date +%s) + WAIT_SECS ))
DEV=""
while [ -z "$DEV" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    for b in /sys/block/nvme*n*; do
        [ -e "$b" ] || continue
        case "$(basename "$b")" in nvme*c*n*) continue ;; esac
        [ "$(tr 'A-F' 'a-f' < "$b/uuid" 2>/dev/null)" = "$want" ] && DEV="$(basename "$b")"
    done
    [ -z "$DEV" ] && sleep 1
done
[ -n "$DEV" ] || fail "namespace $NS_UUID did not appear"
heads=0
for b in /sys/block/nvme*n*; do
    case "$(basename "$b")" in nvme*c*n*) ;; *) heads=$((heads + 1)) ;; esac
done
[ "$heads" -eq 1 ] || fail "$heads namespace block devices; native multipath should show one"
A="$(path "$PORT_A")" || fail "no path through port A"
B="$(path "$PORT_B")" || fail "no path through port B"
echo "BASALT-ANA-PATHS head=$DEV a=$A b=$B"
[ "$(cat "$A/ana_grpid")" = "$ANA_GROUP" ] || fail "path A ana_grpid $(cat "$A/ana_grpid")"
wait_states optimized inaccessible || fail "paths are $(ana_state "$A")/$(ana_state "$B"), not optimized/inaccessible"
CTRL_A="$(basename "$(dirname "$A")")"
nvme ana-log "/dev/$CTRL_A" || fail "nvme ana-log failed"

step "fio random writes with verification for ${FIO_SECS}s"
fio --name=multipath --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
    --size=48M --time_based --runtime="$FIO_SECS" --randseed=11 --verify=crc32c --verify_backlog=64 \
    --verify_fatal=1 --eta=never --output=/tmp/fio.out &
FIO=$!
deadline=$(( $(date +%s) + WAIT_SECS ))
while [ "$(writes "$A")" -lt 64 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no writes through port A"
    kill -0 "$FIO" 2>/dev/null || fail "fio ended early"
    sleep 1
done
[ "$(writes "$B")" -eq 0 ] || fail "$(writes "$B") writes went through the inaccessible path B"
echo "BASALT-ANA-FLIP"
wait_states inaccessible optimized || fail "after the flip paths are $(ana_state "$A")/$(ana_state "$B")"
a0="$(writes "$A")"
b0="$(writes "$B")"
sleep 5
kill -0 "$FIO" 2>/dev/null || fail "fio ended before writes through B could be measured; raise FIO_SECS"
a1="$(writes "$A")"
b1="$(writes "$B")"
echo "BASALT-ANA-MOVED writes through A $a0 -> $a1, through B $b0 -> $b1"
[ "$b1" -gt "$b0" ] || fail "no writes moved to path B"
[ "$a1" -eq "$a0" ] || fail "writes still go through the inaccessible path A"
nvme ana-log "/dev/$CTRL_A" || fail "nvme ana-log failed"

step "wait for fio"
wait "$FIO" || fail "fio failed (exit $?)"
cat /tmp/fio.out
grep -q "err= 0" /tmp/fio.out || fail "fio reported an error"
nvme disconnect -n "$SUBNQN" >/dev/null || fail "nvme disconnect failed"
echo "BASALT-TEST-PASS"
exit 0
