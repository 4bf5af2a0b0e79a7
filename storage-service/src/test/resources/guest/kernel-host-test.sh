#!/bin/sh
# KernelHostTest, guest side: a real Linux NVMe/TCP host (nvme-tcp, nvme-cli, fio) against a
# Basalt node. Runs as /test.sh in the QEMU guest built by src/test/guest/build-guest.sh.
#
# Parameters (from /params):
#   TARGET_ADDR      address of the target as seen from the guest (10.0.2.2 = host loopback)
#   NVME_PORT        NVMe/TCP I/O (and discovery) port
#   DISCOVERY_PORT   NVMe/TCP discovery port
#   SUBNQN           the subsystem NQN all volumes are namespaces of
#   VOL_A_UUID VOL_A_SIZE   volume the guest's host NQN is allowed to see (size in bytes)
#   VOL_B_UUID VOL_B_SIZE   volume the guest's host NQN is not allowed to see (yet)
#   FIO_SIZE_MB      amount of random writes on volume A (default 64), from offset 0
#   FIO_CRASH_MB     amount of random writes (end_fsync, no verify) on volume A just before the
#                    service is killed, at offset FIO_SIZE_MB (default 32; must fit in volume A)
#   FIO_B_SIZE_MB    amount of random writes on volume B (default 8)
#   WAIT_SECS        bound for each "wait until" (default 90)
#   HOST_WAIT_SECS   bound for the host to answer a request (default 300)
#   FIO_TIMEOUT_SECS bound for one fio run (default 900)
#
# Protocol with the host (serial console):
#   guest prints  "BASALT-REQUEST <name>", host acts, then sends the line "go <name>"
#   (or "fail <reason>"). Requests: restart-service (kill -9 and start again, unless the host
#   is told to restart gracefully), measure-space (host records the node's used space),
#   check-space-shrank (host checks it shrank after blkdiscard), allow-volume-b.
#   Progress: "BASALT-STEP <text>"; failure: "BASALT-TEST-FAIL <reason>" then exit 1.
#   /init prints "BASALT-GUEST-EXIT <rc>" after this script ends.

. /etc/basalt-lib.sh
. /params

WAIT_SECS="${WAIT_SECS:-90}"
HOST_WAIT_SECS="${HOST_WAIT_SECS:-300}"
FIO_TIMEOUT_SECS="${FIO_TIMEOUT_SECS:-900}"
FIO_SIZE_MB="${FIO_SIZE_MB:-64}"
FIO_B_SIZE_MB="${FIO_B_SIZE_MB:-8}"
FIO_CRASH_MB="${FIO_CRASH_MB:-32}"
CONNECT_OPTS="--reconnect-delay=1 --ctrl-loss-tmo=${CTRL_LOSS_TMO:-120} --keep-alive-tmo=${KATO:-15}"

. /nvme-host-lib.sh

# A self-check can replace the target with the guest kernel's own (see nvmet-standin-hooks.sh).
[ -f /test-hooks.sh ] && . /test-hooks.sh

wait_no_ctrl() {
    deadline=$(( $(date +%s) + $1 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        ctrl_for_subsys >/dev/null || return 0
        sleep 1
    done
    return 1
}

# reconnects: how many times the kernel host has re-established a controller so far
reconnects() { dmesg | grep -c "Successfully reconnected"; }

# id_field DEVICE-COMMAND FIELD: value of "FIELD : value" from nvme id-ctrl / id-ns output
id_field() {
    awk -v f="$2" -F: '{k=$1; gsub(/[ \t]/, "", k)} k == f {v=$0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v); print v; exit}' "$1"
}

# block_size ID-NS-OUTPUT: bytes per logical block of the LBA format in use
# (nvme id-ns prints it as "lbaf  N : ms:0   lbads:12 rp:0 (in use)")
block_size() {
    lbads="$(grep -E '^lbaf .*in use' "$1" | sed -n 's/.*lbads:\([0-9][0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$lbads" ] || return 1
    echo $(( 1 << lbads ))
}

echo "kernel-host-test: target=$TARGET_ADDR:$NVME_PORT discovery=$DISCOVERY_PORT subnqn=$SUBNQN hostnqn=$(cat /etc/nvme/hostnqn)"
[ -n "${TARGET_ADDR:-}" ] && [ -n "${NVME_PORT:-}" ] && [ -n "${DISCOVERY_PORT:-}" ] && [ -n "${SUBNQN:-}" ] \
    && [ -n "${VOL_A_UUID:-}" ] && [ -n "${VOL_A_SIZE:-}" ] && [ -n "${VOL_B_UUID:-}" ] && [ -n "${VOL_B_SIZE:-}" ] \
    || fail "missing parameters in /params"
[ $(( (FIO_SIZE_MB + FIO_CRASH_MB) * 1048576 )) -le "$VOL_A_SIZE" ] \
    || fail "FIO_SIZE_MB + FIO_CRASH_MB ($FIO_SIZE_MB + $FIO_CRASH_MB MiB) do not fit in volume A ($VOL_A_SIZE bytes)"

# ---- 1. discovery, on the I/O port and on the discovery port ----------------------------
for port in "$NVME_PORT" "$DISCOVERY_PORT"; do
    step "discover $TARGET_ADDR:$port"
    timeout -s KILL 60 nvme discover -t tcp -a "$TARGET_ADDR" -s "$port" > /tmp/disc.out 2>&1
    rc=$?
    cat /tmp/disc.out
    [ $rc -eq 0 ] || fail "nvme discover on port $port failed (rc=$rc)"
    grep -E '^subnqn:' /tmp/disc.out | sed 's/^subnqn:[[:space:]]*//; s/[[:space:]]*$//' | grep -qxF "$SUBNQN" \
        || fail "discovery log on port $port does not list subsystem $SUBNQN"
done

# ---- 2. connect without digests; identify ------------------------------------------------
step "connect (no digests)"
nvme connect -t tcp -a "$TARGET_ADDR" -s "$NVME_PORT" -n "$SUBNQN" $CONNECT_OPTS \
    || fail "nvme connect to $SUBNQN at $TARGET_ADDR:$NVME_PORT failed"
CTRL="$(wait_ctrl_live "$WAIT_SECS")" || fail "controller for $SUBNQN not live within ${WAIT_SECS}s"
echo "controller $CTRL: $(cat /sys/class/nvme/$CTRL/address)"
DEV_A="$(wait_ns_by_uuid "$VOL_A_UUID" "$WAIT_SECS")" \
    || fail "no namespace with volume A's uuid $VOL_A_UUID within ${WAIT_SECS}s"
echo "volume A is /dev/$DEV_A"
nvme list

step "identify controller and namespace"
nvme id-ctrl "/dev/$CTRL" > /tmp/id-ctrl.out || fail "nvme id-ctrl /dev/$CTRL failed"
grep -E '^(vid|sn|mn|fr|mdts|cntlid|ver|kas|oncs|vwc|sgls|subnqn|ioccsz|iorcsz|icdoff|maxcmd|nn)[[:space:]]' /tmp/id-ctrl.out
[ "$(id_field /tmp/id-ctrl.out subnqn)" = "$SUBNQN" ] || fail "id-ctrl subnqn is '$(id_field /tmp/id-ctrl.out subnqn)', expected $SUBNQN"
[ "$(cat /sys/class/nvme/$CTRL/subsysnqn)" = "$SUBNQN" ] || fail "sysfs subsysnqn mismatch"
nvme id-ns "/dev/$DEV_A" > /tmp/id-ns.out || fail "nvme id-ns /dev/$DEV_A failed"
grep -E '^(nsze|ncap|nuse|nsfeat|nlbaf|flbas|nguid|eui64|lbaf )' /tmp/id-ns.out
BS_A="$(block_size /tmp/id-ns.out)" || fail "nvme id-ns shows no LBA format in use for volume A"
[ "$BS_A" -eq 512 ] || [ "$BS_A" -eq 4096 ] || fail "volume A's block size is $BS_A, expected 512 or 4096"
A_BLOCKS=$(( VOL_A_SIZE / BS_A ))
nsze=$(( $(id_field /tmp/id-ns.out nsze) ))
[ "$nsze" -eq "$A_BLOCKS" ] || fail "volume A nsze is $nsze blocks, expected $A_BLOCKS (size $VOL_A_SIZE / $BS_A)"
ncap=$(( $(id_field /tmp/id-ns.out ncap) ))
[ "$ncap" -gt 0 ] && [ "$ncap" -le "$nsze" ] || fail "volume A ncap $ncap not in 1..nsze"
[ "$(cat /sys/block/$DEV_A/queue/logical_block_size)" = "$BS_A" ] \
    || fail "logical block size is $(cat /sys/block/$DEV_A/queue/logical_block_size), expected $BS_A (id-ns)"
# /sys/block/*/size counts 512-byte sectors whatever the logical block size
[ "$(cat /sys/block/$DEV_A/size)" -eq $(( VOL_A_SIZE / 512 )) ] \
    || fail "block device size $(cat /sys/block/$DEV_A/size) sectors, expected $(( VOL_A_SIZE / 512 ))"
if n="$(ns_by_uuid "$VOL_B_UUID")"; then fail "volume B (not allowed for this host) is visible as /dev/$n"; fi

# ---- 3. random writes of mixed sizes, verified ---------------------------------------------
step "fio random writes ${FIO_SIZE_MB} MiB with crc32c verify"
fio_job basalt-a "$DEV_A" "$FIO_SIZE_MB" 4242 write || fail "fio write/verify on volume A failed"

step "disconnect"
nvme disconnect -n "$SUBNQN" || fail "nvme disconnect failed"
wait_no_ctrl "$WAIT_SECS" || fail "controller still present ${WAIT_SECS}s after disconnect"
if n="$(ns_by_uuid "$VOL_A_UUID")"; then fail "volume A still visible as /dev/$n after disconnect"; fi

# ---- 4. reconnect with header and data digests, verify --------------------------------------
step "connect with header and data digests"
nvme connect -t tcp -a "$TARGET_ADDR" -s "$NVME_PORT" -n "$SUBNQN" -g -G $CONNECT_OPTS \
    || fail "nvme connect -g -G (header+data digests) failed"
CTRL="$(wait_ctrl_live "$WAIT_SECS")" || fail "controller (digests) not live within ${WAIT_SECS}s"
DEV_A="$(wait_ns_by_uuid "$VOL_A_UUID" "$WAIT_SECS")" \
    || fail "volume A not visible after reconnect with digests"
echo "volume A is /dev/$DEV_A on $CTRL (digests on)"
step "verify volume A over digests"
fio_job basalt-a "$DEV_A" "$FIO_SIZE_MB" 4242 verify || fail "fio verify over header/data digests failed"

# ---- 5. the service is killed (kill -9) after a flushed write and restarts under the connected
#         host; the kernel host reconnects by itself and every flushed block is intact ---------
# A region never written before: if the flushed data were lost, it would read back as zeros.
step "fio random writes ${FIO_CRASH_MB} MiB at ${FIO_SIZE_MB} MiB with end_fsync, no verify pass"
fio_job basalt-crash "$DEV_A" "$FIO_CRASH_MB" 5151 write-flush "$FIO_SIZE_MB" \
    || fail "fio write (end_fsync) of the region written before the kill failed"
CNTLID_BEFORE="$(cat /sys/class/nvme/$CTRL/cntlid)"
RECONNECTS_BEFORE="$(reconnects)"
host_request restart-service
step "wait for the kernel host to reconnect"
deadline=$(( $(date +%s) + WAIT_SECS ))
while [ "$(reconnects)" -le "$RECONNECTS_BEFORE" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
[ "$(reconnects)" -gt "$RECONNECTS_BEFORE" ] \
    || fail "the kernel host did not reconnect within ${WAIT_SECS}s of the restart (no 'Successfully reconnected' in dmesg)"
CTRL="$(wait_ctrl_live "$WAIT_SECS")" || fail "controller did not come back to live within ${WAIT_SECS}s after the restart"
echo "controller $CTRL live again (cntlid $CNTLID_BEFORE -> $(cat /sys/class/nvme/$CTRL/cntlid))"
DEV_A="$(wait_ns_by_uuid "$VOL_A_UUID" "$WAIT_SECS")" || fail "volume A gone after the restart"
step "verify the writes flushed before the kill"
fio_job basalt-crash "$DEV_A" "$FIO_CRASH_MB" 5151 verify "$FIO_SIZE_MB" \
    || fail "fio verify of the writes flushed (end_fsync) before the service was killed failed"
step "verify volume A after the restart"
fio_job basalt-a "$DEV_A" "$FIO_SIZE_MB" 4242 verify || fail "fio verify after the service restart failed"

# ---- 5b. blkdiscard of the whole namespace gives its space back --------------------------------
host_request measure-space
step "blkdiscard /dev/$DEV_A"
timeout -s KILL "$FIO_TIMEOUT_SECS" blkdiscard "/dev/$DEV_A" || fail "blkdiscard of volume A (/dev/$DEV_A) failed"
host_request check-space-shrank
step "volume A reads zeros after the discard"
for off_mb in 0 "$FIO_SIZE_MB"; do
    nonzero="$(dd if="/dev/$DEV_A" bs=1M skip="$off_mb" count=2 iflag=direct 2>/dev/null | tr -d '\000' | wc -c)"
    [ "$nonzero" -eq 0 ] || fail "volume A has $nonzero non-zero bytes in the 2 MiB at $off_mb MiB after blkdiscard"
done

# ---- 6. ACL: volume B appears without reconnect once allowed ---------------------------------
step "volume B must be invisible"
nvme list-ns "/dev/$CTRL" 2>&1
if n="$(ns_by_uuid "$VOL_B_UUID")"; then fail "volume B (not allowed) is visible as /dev/$n"; fi
CNTLID="$(cat /sys/class/nvme/$CTRL/cntlid)"
host_request allow-volume-b
step "wait for volume B to appear without reconnect"
DEV_B="$(wait_ns_by_uuid "$VOL_B_UUID" "${NS_APPEAR_SECS:-60}")" \
    || fail "volume B did not appear within ${NS_APPEAR_SECS:-60}s after its ACL allowed this host (no AEN / rescan?)"
[ "$(cat /sys/class/nvme/$CTRL/state)" = live ] && [ "$(cat /sys/class/nvme/$CTRL/cntlid)" = "$CNTLID" ] \
    || fail "controller $CTRL was reset or reconnected while volume B appeared"
echo "volume B is /dev/$DEV_B"
nvme list
nvme id-ns "/dev/$DEV_B" > /tmp/id-ns-b.out || fail "nvme id-ns /dev/$DEV_B failed"
BS_B="$(block_size /tmp/id-ns-b.out)" || fail "nvme id-ns shows no LBA format in use for volume B"
B_BLOCKS=$(( VOL_B_SIZE / BS_B ))
nsze=$(( $(id_field /tmp/id-ns-b.out nsze) ))
[ "$nsze" -eq "$B_BLOCKS" ] || fail "volume B nsze is $nsze blocks, expected $B_BLOCKS (size $VOL_B_SIZE / $BS_B)"
step "fio on volume B"
fio_job basalt-b "$DEV_B" "$FIO_B_SIZE_MB" 777 write || fail "fio write/verify on volume B failed"

# ---- 7. done ----------------------------------------------------------------------------
step "disconnect"
nvme disconnect -n "$SUBNQN" || fail "final nvme disconnect failed"
wait_no_ctrl "$WAIT_SECS" || fail "controller still present after the final disconnect"
echo "BASALT-TEST-PASS"
exit 0
