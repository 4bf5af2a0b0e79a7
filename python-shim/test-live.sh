#!/usr/bin/env bash
# Runs the Python tests (API client, Cinder driver, compliance, error paths) with Debian's Python
# (the one that sees Debian's OpenStack packages), the live ones against a Basalt node started
# here on free loopback ports with an admin token of its own. The node is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
node_pid=
cleanup() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! "$py" -c 'import cinder, os_brick' 2>/dev/null; then
  echo "test-live: installing python3-cinder and python3-os-brick"
  apt-get -qq update
  DEBIAN_FRONTEND=noninteractive apt-get -qq -y --no-install-recommends \
    install python3-cinder python3-os-brick >/dev/null
fi

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
token=$("$py" -c 'import secrets; print(secrets.token_hex(32))')
(umask 077 && printf 'api.admin-token = %s\n' "$token" > "$work/basalt.properties")
api_port=$(free_port)
"$root/bin/basalt" serve --data-dir "$work/data" --config "$work/basalt.properties" \
  --api.port="$api_port" --nvme.port="$(free_port)" --nvme.discovery-port="$(free_port)" \
  > "$work/node.log" 2>&1 &
node_pid=$!

for _ in $(seq 1 240); do
  if "$py" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$api_port/api/v1/health', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$node_pid" 2>/dev/null; then
    cat "$work/node.log" >&2
    echo "test-live: the node exited before answering" >&2
    exit 1
  fi
  sleep 0.5
done

cd "$root/python-shim"
BASALT_API_URL="http://127.0.0.1:$api_port" BASALT_API_TOKEN="$token" \
  "$py" -m unittest discover -s tests -t . -v
