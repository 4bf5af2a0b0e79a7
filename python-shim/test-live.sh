#!/usr/bin/env bash
# Runs the Python tests against a live Basalt node started here on free loopback ports, with
# Debian's Python (the one that sees Debian's OpenStack packages). The node is stopped by PID.
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

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
api_port=$(free_port)
"$root/bin/basalt" serve --data-dir "$work/data" --api.port="$api_port" \
  --nvme.port="$(free_port)" --nvme.discovery-port="$(free_port)" > "$work/node.log" 2>&1 &
node_pid=$!

for _ in $(seq 1 120); do
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
BASALT_API_URL="http://127.0.0.1:$api_port" "$py" -m unittest discover -s tests -t . -v
