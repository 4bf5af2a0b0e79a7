#!/bin/sh
# Harness self-check only: turns the guest kernel's own NVMe/TCP target (nvmet, nvmet-tcp) into a
# stand-in for a Basalt node, so kernel-host-test.sh can be validated without the real target.
# Sourced by kernel-host-test.sh as /test-hooks.sh. Expects TARGET_ADDR=127.0.0.1 and the usual
# parameters. "Volume B not allowed" is emulated by a disabled namespace that gets enabled on
# allow-volume-b (nvmet then sends a Namespace Attribute Changed AEN, like Basalt's ACL change);
# "restart-service" tears the ports down and brings them back after a pause.

NVMET=/sys/kernel/config/nvmet

standin_ports_up() {
    i=1
    for p in "$NVME_PORT" "$DISCOVERY_PORT"; do
        mkdir -p "$NVMET/ports/$i"
        echo tcp > "$NVMET/ports/$i/addr_trtype"
        echo ipv4 > "$NVMET/ports/$i/addr_adrfam"
        echo "$TARGET_ADDR" > "$NVMET/ports/$i/addr_traddr"
        echo "$p" > "$NVMET/ports/$i/addr_trsvcid"
        ln -s "$NVMET/subsystems/$SUBNQN" "$NVMET/ports/$i/subsystems/$SUBNQN"
        i=$((i + 1))
    done
}

standin_ports_down() {
    for i in 1 2; do
        rm -f "$NVMET/ports/$i/subsystems/$SUBNQN"
        rmdir "$NVMET/ports/$i"
    done
}

standin_ns() { # NSID UUID SIZE ENABLE
    truncate -s "$3" "/standin/ns$1.img"
    # a loop device (512-byte logical blocks, like Basalt) over a tmpfs file
    loopdev="$(losetup -f)" && losetup "$loopdev" "/standin/ns$1.img" || return 1
    d="$NVMET/subsystems/$SUBNQN/namespaces/$1"
    mkdir -p "$d"
    echo "$2" > "$d/device_uuid"
    echo "$loopdev" > "$d/device_path"
    [ "$4" = 1 ] && echo 1 > "$d/enable"
    return 0
}

standin_setup() {
    echo "stand-in: configuring the guest kernel's nvmet as the target"
    modload nvmet-tcp || fail "stand-in: cannot load nvmet-tcp"
    modload loop || fail "stand-in: cannot load loop"
    grep -q " /sys/kernel/config " /proc/mounts || mount -t configfs configfs /sys/kernel/config || fail "stand-in: no configfs"
    mkdir -p /standin
    mount -t tmpfs -o size=$(( (VOL_A_SIZE + VOL_B_SIZE) / 1048576 + 16 ))m tmpfs /standin
    host="$(cat /etc/nvme/hostnqn)"
    mkdir -p "$NVMET/hosts/$host" "$NVMET/subsystems/$SUBNQN"
    echo 0 > "$NVMET/subsystems/$SUBNQN/attr_allow_any_host"
    ln -s "$NVMET/hosts/$host" "$NVMET/subsystems/$SUBNQN/allowed_hosts/$host"
    standin_ns 1 "$VOL_A_UUID" "$VOL_A_SIZE" 1 || fail "stand-in: namespace 1"
    standin_ns 2 "$VOL_B_UUID" "$VOL_B_SIZE" 0 || fail "stand-in: namespace 2"
    standin_ports_up || fail "stand-in: ports"
    echo "stand-in: nvmet listening on $TARGET_ADDR:$NVME_PORT and :$DISCOVERY_PORT"
}

after_host_request() {
    case "$1" in
        restart-service)
            echo "stand-in: target going down"
            standin_ports_down
            sleep 3
            standin_ports_up
            echo "stand-in: target back"
            ;;
        allow-volume-b)
            echo 1 > "$NVMET/subsystems/$SUBNQN/namespaces/2/enable"
            echo "stand-in: namespace 2 enabled"
            ;;
    esac
}

standin_setup
