#!/bin/sh
# FailingDrivesKernelTest, guest side: a real Linux NVMe/TCP host writes and verifies a volume of
# an erasure-coded (4+2) node while the host (the test) makes its drives fail, replaces them, and
# finally fails more drives than the code survives. Runs as /test.sh in the QEMU guest.
#
# Parameters (from /params):
#   TARGET_ADDR NVME_PORT SUBNQN   where the node is and its subsystem
#   VOL_UUID                       the volume's namespace uuid
#   FIO_SIZE_MB                    size of each of the three regions written (default 8)
#   WAIT_SECS HOST_WAIT_SECS FIO_TIMEOUT_SECS   bounds, see nvme-host-lib.sh
#
# Requests to the host, in order: fail-first-drive, check-one-failed, fail-second-drive,
# check-two-failed, replace-both (returns once both rebuilds are done), fail-three-drives.

. /etc/basalt-lib.sh
. /params
WAIT_SECS="${WAIT_SECS:-90}"
HOST_WAIT_SECS="${HOST_WAIT_SECS:-600}"
FIO_TIMEOUT_SECS="${FIO_TIMEOUT_SECS:-600}"
MB="${FIO_SIZE_MB:-8}"
. /nvme-host-lib.sh

step "connect"
nvme connect -t tcp -a "$TARGET_ADDR" -s "$NVME_PORT" -n "$SUBNQN" --reconnect-delay=1 --ctrl-loss-tmo=120 \
    || fail "nvme connect to $SUBNQN at $TARGET_ADDR:$NVME_PORT failed"
wait_ctrl_live "$WAIT_SECS" >/dev/null || fail "controller for $SUBNQN not live within ${WAIT_SECS}s"
DEV="$(wait_ns_by_uuid "$VOL_UUID" "$WAIT_SECS")" || fail "no namespace with uuid $VOL_UUID within ${WAIT_SECS}s"
echo "the volume is /dev/$DEV"

# Three regions, each written (with its verify pass) in one phase; every later phase verifies all
# regions written before it again.
step "region 1: random writes with verify on a healthy node"
fio_job r1 "$DEV" "$MB" 101 write 0 || fail "fio on a healthy node failed"

host_request fail-first-drive
step "region 2: random writes with verify, one drive failed"
fio_job r2 "$DEV" "$MB" 102 write "$MB" || fail "fio write/verify with one drive failed reported an error"
fio_job r1 "$DEV" "$MB" 101 verify 0 || fail "fio verify of region 1 with one drive failed reported an error"
host_request check-one-failed

host_request fail-second-drive
step "region 3: random writes with verify, two drives failed"
fio_job r3 "$DEV" "$MB" 103 write $((2 * MB)) || fail "fio write/verify with two drives failed reported an error"
host_request check-two-failed
fio_job r1 "$DEV" "$MB" 101 verify 0 || fail "fio verify of region 1 with two drives failed reported an error"
fio_job r2 "$DEV" "$MB" 102 verify "$MB" || fail "fio verify of region 2 with two drives failed reported an error"

host_request replace-both
step "verify every region on the rebuilt drives"
fio_job r1 "$DEV" "$MB" 101 verify 0 || fail "fio verify of region 1 after the rebuilds failed"
fio_job r2 "$DEV" "$MB" 102 verify "$MB" || fail "fio verify of region 2 after the rebuilds failed"
fio_job r3 "$DEV" "$MB" 103 verify $((2 * MB)) || fail "fio verify of region 3 after the rebuilds failed"

# Three drives lost on 4+2: blocks with chunks on them cannot be rebuilt (a 4 KiB block spans all four
# data chunks of its row, so with three drives gone that is every block). fio goes on past read errors
# (continue_on_error=io; ENODATA, 61, is fatal to fio unless ignored) but stops at the first block
# whose content is wrong (verify_fatal).
host_request fail-three-drives
step "read every region with three drives failed: media errors, never wrong data"
echo 3 > /proc/sys/vm/drop_caches
for r in 1 2 3; do
    timeout -s KILL "$FIO_TIMEOUT_SECS" fio --name="r$r" --filename="/dev/$DEV" --ioengine=libaio --direct=1 \
        --rw=randwrite --bsrange=4k-1m --iodepth=16 --offset="$(( (r - 1) * MB ))m" --size="${MB}m" \
        --randrepeat=1 --randseed="10$r" --verify=crc32c --verify_fatal=1 --verify_dump=0 --eta=never \
        --verify_only=1 --continue_on_error=io --ignore_error=61 </dev/null > "/tmp/lost$r.out" 2>&1
    echo "fio r$r after three failures: rc=$?"
    grep -E 'err=|READ:|verify|bad|error' "/tmp/lost$r.out" | head -n 20
    if grep -qiE 'verify: bad|bad magic|bad header|verify failed|crc32c: verify' "/tmp/lost$r.out"; then
        cat "/tmp/lost$r.out" | tail -n 40
        fail "region $r read back wrong data with three drives failed"
    fi
done
# The kernel turns the target's Unrecovered Read Error (0x281) into the block layer's medium error,
# which reaches fio as ENODATA ("No data available"); any other error would be something else.
cat /tmp/lost1.out /tmp/lost2.out /tmp/lost3.out | grep -E 'io_u error|first_error=' > /tmp/lost-errors.out
grep -q 'No data available' /tmp/lost-errors.out || fail "no read failed with three of six drives of a 4+2 node lost"
if grep -vE 'No data available|first_error=0/' /tmp/lost-errors.out; then
    fail "a read with three drives lost failed with another error than a media error"
fi
dmesg | grep -E 'critical medium error|sc 0x81' | head -n 4
dmesg | grep -q 'critical medium error' || fail "the kernel logged no medium error for the failed reads"

nvme disconnect -n "$SUBNQN" >/dev/null 2>&1
echo "BASALT-TEST-PASS"
exit 0
