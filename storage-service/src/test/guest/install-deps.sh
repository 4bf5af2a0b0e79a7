#!/bin/sh
# Installs everything the real-Linux-kernel-host guest tests need (Debian 12, run as root).
# Idempotent: installs only what is missing, quietly and without recommends.
set -eu

PACKAGES="qemu-system-x86 busybox-static nvme-cli fio kmod cpio util-linux zstd"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all guest test packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing$missing"
apt-get -qq update
# shellcheck disable=SC2086
apt-get -qq -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install $missing >/dev/null
echo "install-deps: done"
