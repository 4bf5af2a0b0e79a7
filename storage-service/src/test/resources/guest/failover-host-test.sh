#!/bin/sh
# KernelFailoverTest, guest side: a real Linux NVMe/TCP host writes a 3-copy volume of a cluster of
# three Basalt nodes with fio (random writes, verified as it goes) while the host (the test) kills
# copies' nodes with kill -9 and restarts them. fio must see no error; the longest time no I/O
# completed around each kill and each restart (its catch-up's last pass, and a failback) is measured
# from fio's completion log and printed.
#
# Parameters (from /params):
#   TARGET_ADDR NVME_PORTS SUBNQN  the volume's portals (ports separated by spaces; the guest connects to
#                                  each: one namespace with a path per portal) and its NQN
#   VOL_UUID                       the volume's namespace uuid
#   LOAD_MB                        the region fio keeps writing, from offset 0 (default 32)
#   FIO_SECS                       how long the load runs (default 240); every host action must fit in it
#   REQUESTS                       the host actions asked for in order while the load runs, separated by
#                                  spaces (e.g. "kill-secondary restart-killed kill-primary")
#   WAIT_SECS HOST_WAIT_SECS FIO_TIMEOUT_SECS   bounds, see nvme-host-lib.sh
#
# The region after the load's, LOAD_MB long, is written once before the load and verified at the end:
# the copies must keep what they had before a kill, and a copy catching up after a restart must be sent
# only the load's region (the host checks that count).
# Output: "BASALT-IO-PAUSE <request> <ms>" for each request: the longest gap between two fio
# completions from the request to the next one (at most 60 s).

. /etc/basalt-lib.sh
. /params
WAIT_SECS="${WAIT_SECS:-90}"
HOST_WAIT_SECS="${HOST_WAIT_SECS:-300}"
FIO_TIMEOUT_SECS="${FIO_TIMEOUT_SECS:-900}"
LOAD_MB="${LOAD_MB:-32}"
FIO_SECS="${FIO_SECS:-240}"
. /nvme-host-lib.sh

# milliseconds since boot (the guest's busybox date has only whole seconds)
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# paths: the hidden per-path block devices (nvmeXcYnZ) of the namespace, with their ANA states
paths() {
    for p in /sys/class/nvme/nvme*/nvme*c*n*; do
        [ -e "$p" ] && echo "$(basename "$p")=$(cat "$p/ana_state" 2>/dev/null)"
    done
}

step "connect to every portal: $NVME_PORTS"
# ctrl-loss-tmo -1: the path of a killed node keeps reconnecting, so I/O waits for a usable path
# instead of failing when none is optimized for a moment
for port in $NVME_PORTS; do
    nvme connect -t tcp -a "$TARGET_ADDR" -s "$port" -n "$SUBNQN" --reconnect-delay=1 --ctrl-loss-tmo=-1 \
        || fail "nvme connect to $SUBNQN at $TARGET_ADDR:$port failed"
done
wait_ctrl_live "$WAIT_SECS" >/dev/null || fail "controller for $SUBNQN not live within ${WAIT_SECS}s"
DEV="$(wait_ns_by_uuid "$VOL_UUID" "$WAIT_SECS")" || fail "no namespace with uuid $VOL_UUID within ${WAIT_SECS}s"
[ "$(visible_namespaces | wc -l)" -eq 1 ] || fail "$(visible_namespaces | wc -l) namespace block devices; one expected"
want=$(echo $NVME_PORTS | wc -w)
deadline=$(( $(date +%s) + WAIT_SECS ))
while [ "$(paths | wc -l)" -ne "$want" ] || ! paths | grep -q "=optimized"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "paths after ${WAIT_SECS}s: $(paths | tr '\n' ' '); $want expected, one optimized"
    sleep 1
done
echo "BASALT-PATHS /dev/$DEV: $(paths | tr '\n' ' ')"

step "write the region after the load's once"
fio_job kept "$DEV" "$LOAD_MB" 17 write-flush "$LOAD_MB" || fail "fio writing the kept region failed"

step "load: random 4 KiB writes with verification over ${LOAD_MB} MiB for ${FIO_SECS}s"
fio --name=load --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
    --size="${LOAD_MB}m" --time_based --runtime="$FIO_SECS" --randseed=23 --verify=crc32c --verify_backlog=64 \
    --verify_fatal=1 --eta=never --write_lat_log=/tmp/load --log_avg_msec=0 --per_job_logs=0 \
    --output=/tmp/load.out </dev/null &
FIO=$!
fio_start=$(now_ms)
sleep 10
kill -0 "$FIO" 2>/dev/null || { cat /tmp/load.out; fail "fio ended early"; }

asked=""
for r in $REQUESTS; do
    kill -0 "$FIO" 2>/dev/null || fail "the load ended before request $r; raise FIO_SECS"
    asked="$asked $r:$(( $(now_ms) - fio_start ))"
    host_request "$r"
    sleep 5
    echo "BASALT-PATHS after $r: $(paths | tr '\n' ' ')"
done
kill -0 "$FIO" 2>/dev/null || fail "the load ended before the host's last action was over; raise FIO_SECS"

step "wait for the load to end"
wait "$FIO"
rc=$?
cat /tmp/load.out
[ $rc -eq 0 ] || fail "fio (the load) failed (exit $rc)"
grep -q "err= 0" /tmp/load.out || fail "fio reported an error"

# The completion log: "msec since the job started, latency, direction, size, offset" per I/O.
LAT="$(ls /tmp/load*clat*.log 2>/dev/null | head -n 1)"
[ -n "$LAT" ] || fail "fio wrote no completion log"
echo "completion log $LAT: $(wc -l < "$LAT") I/Os"
# "name:ms name:ms ..." with each request's window end: the next request's time, or 60 s after it
set -- $asked
while [ $# -gt 0 ]; do
    r="${1%%:*}"
    at="${1#*:}"
    shift
    if [ $# -gt 0 ]; then to="${1#*:}"; else to=$(( at + 60000 )); fi
    # fio's clock starts a little after the launch, so the window opens 2 s early
    gap="$(awk -F', *' -v from=$(( at - 2000 )) -v to="$to" '
        $1 >= from && $1 <= to { if (seen && $1 - prev > max) max = $1 - prev; prev = $1; seen = 1 }
        END { printf "%d\n", max }' "$LAT")"
    echo "BASALT-IO-PAUSE $r $gap"
done
longest="$(awk -F', *' '{ if (seen && $1 - prev > max) { max = $1 - prev; at = prev } prev = $1; seen = 1 }
    END { printf "%d ms after %d ms\n", max, at }' "$LAT")"
echo "longest gap between completions over the whole load: $longest"

step "verify the region written before the load"
fio_job kept "$DEV" "$LOAD_MB" 17 verify "$LOAD_MB" || fail "the region written before the load does not verify"
nvme disconnect -n "$SUBNQN" >/dev/null || fail "nvme disconnect failed"
echo "BASALT-TEST-PASS"
exit 0
