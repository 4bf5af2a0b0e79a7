#!/usr/bin/env bash
# End-to-end test of the Cinder driver: real cinder-api/scheduler/volume (Debian packages),
# RabbitMQ, MariaDB, a Basalt node and a QEMU guest with the Linux NVMe/TCP host, all on this
# machine (see python-shim/e2e/e2e.py for what it checks). Needs root. Installs the Debian
# packages it needs when they are missing, without starting their system services.
#
#   python-shim/test-e2e.sh [--keep]      --keep leaves the work folder with every log
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "test-e2e: needs root" >&2
  exit 2
fi

packages=(python3-cinder cinder-api cinder-scheduler cinder-volume python3-cinderclient
  python3-os-brick python3-pymysql rabbitmq-server mariadb-server)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-e2e: installing ${missing[*]}"
  # The packages' scripts would start system RabbitMQ/MariaDB/Cinder services; the test runs its
  # own. A policy-rc.d that denies starts is in place only while apt-get runs (if none exists).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get -qq update
  DEBIAN_FRONTEND=noninteractive apt-get -qq -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install "${missing[@]}" >/dev/null
  if [ "$(trap -p EXIT)" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi
bash "$root/storage-service/src/test/guest/install-deps.sh"

exec /usr/bin/python3 "$root/python-shim/e2e/e2e.py" "$@"
