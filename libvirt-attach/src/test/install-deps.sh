#!/bin/sh
# Installs what the libvirt-attach tests need beyond the JDK and Maven: QEMU's qemu-io and qemu-img,
# which drive the NBD bridge as a real NBD client. Idempotent; run as root on Debian 12.
set -eu

if command -v qemu-io >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root to install qemu-utils" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -qq update
apt-get install -y -qq --no-install-recommends qemu-utils
