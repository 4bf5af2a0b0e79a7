#!/bin/sh
# Installs what the libvirt-attach tests need beyond the JDK and Maven: QEMU's qemu-io and qemu-img
# (a real NBD client for the bridge), and libvirt's daemon with its QEMU driver for the real
# libvirt test. Idempotent; run as root on Debian 12.
set -eu

# libvirt-daemon-system would pull in systemd; the daemon and its QEMU driver are enough.
PACKAGES="qemu-utils qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ] || ! getent passwd libvirt-qemu >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: run as root to install:$missing (and the libvirt-qemu user)" >&2
        exit 1
    fi
fi
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# libvirt's QEMU driver refuses to start without this user, even when QEMU runs as root.
if ! getent group libvirt-qemu >/dev/null; then
    groupadd --system libvirt-qemu
fi
if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --gid libvirt-qemu --no-create-home --shell /usr/sbin/nologin libvirt-qemu
fi
