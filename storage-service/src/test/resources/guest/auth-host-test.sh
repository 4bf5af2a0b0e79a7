#!/bin/sh
# KernelAuthenticationTest, guest side: the Linux 6.12 NVMe/TCP host (CONFIG_NVME_HOST_AUTH) and
# nvme-cli's --dhchap-secret / --dhchap-ctrl-secret against Basalt's target with DH-HMAC-CHAP.
#
# Parameters (from /params):
#   TARGET_ADDR   address of the targets as seen from the guest (10.0.2.2 = host loopback)
#   SUBNQN        subsystem NQN; NS_UUID the namespace the guest's host NQN may see
#   PORT_UNI      target with SHA-256 and ffdhe2048 that knows the host's secret only
#   PORT_BI       target with SHA-512 and the null group that knows both secrets
#   PORT_BI_DH    target with SHA-384 and ffdhe4096 that knows both secrets
#   HOST_SECRET CTRL_SECRET WRONG_SECRET   DHHC-1 secrets
#   WAIT_SECS     bound for each "wait until" (default 60)
# Progress: "BASALT-STEP <text>"; failure: "BASALT-TEST-FAIL <reason>" then exit 1.

. /etc/basalt-lib.sh
. /params

WAIT_SECS="${WAIT_SECS:-60}"

step() { echo "BASALT-STEP $*"; }

fail() {
    echo "BASALT-TEST-FAIL $*"
    nvme list 2>&1
    dmesg | tail -n 40
    nvme disconnect-all >/dev/null 2>&1
    exit 1
}

controllers() { ls -d /sys/class/nvme/nvme* 2>/dev/null | wc -l; }

# wait_namespace: prints the visible block device of NS_UUID once it appears
wait_namespace() {
    want="$(echo "$NS_UUID" | tr 'A-F' 'a-f')"
    deadline=$(( $(date +%s) + WAIT_SECS ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        for b in /sys/block/nvme*n*; do
            [ -e "$b" ] || continue
            case "$(basename "$b")" in nvme*c*n*) continue ;; esac
            if [ "$(tr 'A-F' 'a-f' < "$b/uuid" 2>/dev/null)" = "$want" ]; then
                basename "$b"
                return 0
            fi
        done
        sleep 1
    done
    return 1
}

wait_no_controller() {
    deadline=$(( $(date +%s) + WAIT_SECS ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        [ "$(controllers)" -eq 0 ] && return 0
        sleep 1
    done
    return 1
}

# authenticated_io NAME PORT SEED [nvme connect options]: connect, verified writes, disconnect
authenticated_io() {
    name="$1" port="$2" seed="$3"
    shift 3
    step "$name: connect"
    nvme connect -t tcp -a "$TARGET_ADDR" -s "$port" -n "$SUBNQN" "$@" || fail "$name: nvme connect failed"
    dev="$(wait_namespace)" || fail "$name: namespace $NS_UUID did not appear"
    step "$name: fio on /dev/$dev"
    fio --name="$name" --filename="/dev/$dev" --direct=1 --rw=randwrite --bs=4k --size=4M \
        --randseed="$seed" --eta=never --verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio.out \
        || { cat /tmp/fio.out; fail "$name: fio verify failed"; }
    nvme disconnect -n "$SUBNQN" >/dev/null || fail "$name: nvme disconnect failed"
    wait_no_controller || fail "$name: controller still present after disconnect"
    echo "BASALT-AUTH-OK $name"
}

# refused NAME PORT [nvme connect options]: nvme connect must fail and leave no controller
refused() {
    name="$1" port="$2"
    shift 2
    step "$name: connect (must be refused)"
    if nvme connect -t tcp -a "$TARGET_ADDR" -s "$port" -n "$SUBNQN" "$@"; then
        fail "$name: nvme connect succeeded"
    fi
    wait_no_controller || fail "$name: a controller remains after a refused connect"
    echo "BASALT-AUTH-REFUSED $name"
}

modload nvme-tcp || fail "cannot load nvme-tcp"
[ -d /sys/module/nvme_auth ] || fail "the kernel has no nvme_auth module loaded"

authenticated_io unidirectional "$PORT_UNI" 1 --dhchap-secret="$HOST_SECRET"
authenticated_io bidirectional-sha512 "$PORT_BI" 2 --dhchap-secret="$HOST_SECRET" --dhchap-ctrl-secret="$CTRL_SECRET"
authenticated_io bidirectional-sha384-ffdhe4096 "$PORT_BI_DH" 3 --dhchap-secret="$HOST_SECRET" \
    --dhchap-ctrl-secret="$CTRL_SECRET"
refused wrong-host-secret "$PORT_UNI" --dhchap-secret="$WRONG_SECRET"
refused no-secret "$PORT_UNI"
refused wrong-controller-secret "$PORT_BI" --dhchap-secret="$HOST_SECRET" --dhchap-ctrl-secret="$WRONG_SECRET"
echo "BASALT-TEST-PASS"
exit 0
