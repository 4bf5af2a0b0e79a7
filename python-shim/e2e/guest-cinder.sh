#!/bin/sh
# Guest side of the Cinder end-to-end test (python-shim/e2e/e2e.py): a real Linux NVMe/TCP host
# that does what os-brick 6.1's NVMeOFConnector does with the connection_info Cinder returns.
# The host drives it over the serial console, one command per line:
#   CMD <seq> connect <target_nqn> <address> <port> <transport> <host_nqn>
#   CMD <seq> fio <vol_uuid> <size_mb> <seed>       random writes, then crc32c verify
#   CMD <seq> verify <vol_uuid> <size_mb> <seed>    verify what an earlier fio wrote
#   CMD <seq> size <vol_uuid> <bytes>               the namespace has that size
#   CMD <seq> qos <limited_uuid> <free_uuid> <iops> <secs>
#                                                   4 KiB random reads: the limited volume within 10%
#                                                   of iops while the free one, read at the same time,
#                                                   keeps at least half its throughput alone
#   CMD <seq> gone <vol_uuid> <secs>                wait until the namespace is gone
#   CMD <seq> seqwrite <uuid0> <uuid1> <uuid2>      start writing numbered records across three
#                                                   volumes in the background (see seq_write)
#   CMD <seq> seqstop                               stop that writer
#   CMD <seq> seqcheck <uuid0> <uuid1> <uuid2>      volumes made from a group snapshot of the three
#                                                   hold exactly records 0..k-1, with 0 < k < written
#   CMD <seq> disconnect <target_nqn>
#   CMD <seq> quit
# and the guest answers each with "BASALT-DONE <seq> <rc>".
# shellcheck shell=sh

say() { echo "e2e-guest: $*"; }

lower() { echo "$1" | tr 'A-F' 'a-f'; }

# What os-brick's Target.find_device does for a target with vol_uuid: the visible namespace
# (nvmeXnY, not the per-path nvmeXcZnY) whose sysfs uuid is the volume's.
ns_by_uuid() {
    want="$(lower "$1")"
    for b in /sys/block/nvme*n*; do
        [ -e "$b" ] || continue
        case "$(basename "$b")" in nvme*c*n*) continue ;; esac
        if [ "$(lower "$(cat "$b/uuid" 2>/dev/null)")" = "$want" ]; then
            basename "$b"
            return 0
        fi
    done
    return 1
}

wait_ns() {
    n=0
    while [ "$n" -lt "$2" ]; do
        if dev="$(ns_by_uuid "$1")"; then
            echo "$dev"
            return 0
        fi
        n=$((n + 1))
        sleep 1
    done
    return 1
}

# The live controller of subsystem $1 at traddr $2, trsvcid $3 (os-brick's Portal.state == live).
live_ctrl() {
    for c in /sys/class/nvme-fabrics/ctl/nvme*; do
        [ -e "$c" ] || continue
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$1" ] || continue
        case "$(cat "$c/address" 2>/dev/null)" in
            *traddr="$2",trsvcid="$3"*) ;;
            *) continue ;;
        esac
        if [ "$(cat "$c/state" 2>/dev/null)" = live ]; then
            basename "$c"
            return 0
        fi
    done
    return 1
}

# os-brick's _connect_target: rescan a live controller of the portal, else nvme connect with
# exactly os-brick's arguments.
do_connect() {
    nqn="$1" addr="$2" port="$3" transport="$4" hostnqn="$5"
    if ctrl="$(live_ctrl "$nqn" "$addr" "$port")"; then
        say "already connected as $ctrl: nvme ns-rescan /dev/$ctrl"
        nvme ns-rescan "/dev/$ctrl"
        return $?
    fi
    say "nvme connect -a $addr -s $port -t $transport -n $nqn -Q 128 -l -1 -q $hostnqn"
    timeout -s KILL 60 nvme connect -a "$addr" -s "$port" -t "$transport" -n "$nqn" \
        -Q 128 -l -1 -q "$hostnqn"
}

run_fio() {
    uuid="$1" size="$2" seed="$3" mode="$4"
    dev="$(wait_ns "$uuid" 60)" || { say "no namespace with uuid $uuid"; return 1; }
    say "volume $uuid is /dev/$dev ($(cat "/sys/block/$dev/size") sectors)"
    set -- --name=cinder-e2e --filename="/dev/$dev" --ioengine=libaio --direct=1 \
        --rw=randwrite --bsrange=4k-256k --iodepth=8 --size="${size}m" \
        --randrepeat=1 --randseed="$seed" --verify=crc32c --verify_fatal=1 --verify_dump=0 \
        --eta=never
    if [ "$mode" = verify ]; then
        set -- "$@" --verify_only=1
    else
        set -- "$@" --do_verify=1 --end_fsync=1
    fi
    timeout -s KILL 300 fio "$@" </dev/null >/tmp/fio.out 2>&1
    rc=$?
    grep -E 'err=|WRITE:|READ:|verify|bad|fail' /tmp/fio.out | head -n 20
    [ "$rc" -eq 0 ] || tail -n 40 /tmp/fio.out
    return "$rc"
}

# Read IOPS of each job of a fio run (terse output: field 8 is the read IOPS), one per line. The
# first 3 s are not counted: they spend a volume's saved-up burst.
read_iops() {
    secs="$1"
    shift
    set -- --ioengine=libaio --direct=1 --rw=randread --bs=4k --iodepth=8 --time_based \
        --runtime="$secs" --ramp_time=3 --minimal "$@"
    timeout -s KILL $((secs + 60)) fio "$@" </dev/null | cut -d';' -f8
}

check_qos() {
    limited="$(wait_ns "$1" 60)" || { say "no namespace with uuid $1"; return 1; }
    free="$(wait_ns "$2" 60)" || { say "no namespace with uuid $2"; return 1; }
    limit="$3" secs="$4"
    alone="$(read_iops "$secs" --name=free --filename="/dev/$free")"
    both="$(read_iops "$secs" --name=limited --filename="/dev/$limited" --name=free --filename="/dev/$free")"
    limited_iops="$(echo "$both" | sed -n 1p)"
    free_iops="$(echo "$both" | sed -n 2p)"
    say "QoS: limit $limit IOPS, limited volume $limited_iops IOPS; free volume $alone IOPS alone, $free_iops together"
    [ -n "$limited_iops" ] && [ -n "$free_iops" ] && [ -n "$alone" ] || return 1
    [ $((limited_iops * 10)) -ge $((limit * 9)) ] && [ $((limited_iops * 10)) -le $((limit * 11)) ] \
        && [ $((free_iops * 2)) -ge "$alone" ]
}

check_size() {
    dev="$(wait_ns "$1" 60)" || { say "no namespace with uuid $1"; return 1; }
    bytes=$(( $(cat "/sys/block/$dev/size") * 512 ))
    say "/dev/$dev has $bytes bytes, expected $2"
    [ "$bytes" = "$2" ]
}

wait_gone() {
    n=0
    while [ "$n" -lt "$2" ]; do
        ns_by_uuid "$1" >/dev/null || return 0
        n=$((n + 1))
        sleep 1
    done
    return 1
}

# Crash consistency across volumes: record i, a 4 KiB block "BASALT-REC <i>", goes to block i/3 of
# volume i%3 with nvme write, which returns when the controller completed it, so record i is
# acknowledged before record i+1 is issued. A snapshot of the three at one instant therefore holds
# records 0..k-1 for some k, and nothing else. Returns once 6 records are written (a TCG guest
# writes about two a second: each is an nvme-cli process).
seq_write() {
    devs=""
    for u in "$1" "$2" "$3"; do
        d="$(wait_ns "$u" 60)" || { say "no namespace with uuid $u"; return 1; }
        devs="$devs $d"
    done
    # shellcheck disable=SC2086
    set -- $devs
    lbs="$(cat "/sys/block/$1/queue/logical_block_size")"
    rm -f /tmp/seq.stop /tmp/seq.failed
    echo 0 > /tmp/seq.count
    (
        i=0
        while [ ! -e /tmp/seq.stop ] && [ "$i" -lt 30000 ]; do
            case $((i % 3)) in 0) dev="$1" ;; 1) dev="$2" ;; *) dev="$3" ;; esac
            printf '%-4095s\n' "BASALT-REC $i" > /tmp/seq.rec
            if ! nvme write "/dev/$dev" -s $(((i / 3) * 4096 / lbs)) -c $((4096 / lbs - 1)) -z 4096 \
                    -d /tmp/seq.rec > /tmp/seq.out 2>&1; then
                { echo "record $i:"; cat /tmp/seq.out; } > /tmp/seq.failed
                break
            fi
            i=$((i + 1))
            echo "$i" > /tmp/seq.count
        done
    ) </dev/null &
    seq_writer=$!
    n=0
    # The writer truncates and rewrites the count: a read in between finds it empty, which is 0.
    while count="$(cat /tmp/seq.count)" && [ "${count:-0}" -lt 6 ]; do
        if ! kill -0 "$seq_writer" 2>/dev/null || [ "$n" -ge 1200 ]; then
            say "the record writer stopped early: $(cat /tmp/seq.failed 2>/dev/null)"
            return 1
        fi
        n=$((n + 1))
        sleep 0.1
    done
    say "record writer running on /dev/$1 /dev/$2 /dev/$3 (blocks of $lbs bytes)"
}

seq_stop() {
    touch /tmp/seq.stop
    wait "$seq_writer"
    say "record writer wrote $(cat /tmp/seq.count) records"
    [ ! -e /tmp/seq.failed ] || { cat /tmp/seq.failed; return 1; }
}

seq_check() {
    written="$(cat /tmp/seq.count)"
    : > /tmp/seq.found
    : > /tmp/seq.misplaced
    v=0
    for u in "$1" "$2" "$3"; do
        d="$(wait_ns "$u" 60)" || { say "no namespace with uuid $u"; return 1; }
        dd if="/dev/$d" bs=4096 count=$((written / 3 + 1)) 2>/dev/null | tr -d '\000' \
            | grep -o 'BASALT-REC [0-9]*' | while read -r _ r; do
                [ $((r % 3)) -eq "$v" ] || echo "record $r on volume $v" >> /tmp/seq.misplaced
                echo "$r"
            done >> /tmp/seq.found
        v=$((v + 1))
    done
    sort -n /tmp/seq.found > /tmp/seq.sorted
    k="$(wc -l < /tmp/seq.sorted)"
    expected=0
    while read -r r; do
        if [ "$r" != "$expected" ]; then
            say "NOT A PREFIX: record $r is in the group snapshot but record $expected is not"
            return 1
        fi
        expected=$((expected + 1))
    done < /tmp/seq.sorted
    [ ! -s /tmp/seq.misplaced ] || { say "records on the wrong volume: $(head -n 3 /tmp/seq.misplaced)"; return 1; }
    say "the group snapshot holds exactly records 0..$((k - 1)) of the $written written"
    [ "$k" -gt 0 ] && [ "$k" -lt "$written" ]
}

say "ready, host NQN $(cat /etc/nvme/hostnqn)"
echo "BASALT-E2E-READY"
while read -r tag seq verb a1 a2 a3 a4 a5; do
    [ "$tag" = CMD ] || continue
    case "$verb" in
        connect) do_connect "$a1" "$a2" "$a3" "$a4" "$a5" ;;
        fio) run_fio "$a1" "$a2" "$a3" write ;;
        verify) run_fio "$a1" "$a2" "$a3" verify ;;
        size) check_size "$a1" "$a2" ;;
        qos) check_qos "$a1" "$a2" "$a3" "$a4" ;;
        gone) wait_gone "$a1" "$a2" ;;
        seqwrite) seq_write "$a1" "$a2" "$a3" ;;
        seqstop) seq_stop ;;
        seqcheck) seq_check "$a1" "$a2" "$a3" ;;
        disconnect) timeout -s KILL 60 nvme disconnect -n "$a1" ;;
        quit) echo "BASALT-DONE $seq 0"; exit 0 ;;
        *) say "unknown command $verb"; false ;;
    esac
    echo "BASALT-DONE $seq $?"
done
say "console closed"
exit 1
