#!/usr/bin/env bash
# Runs the README's quick start verbatim: the shell block after the "quick start" marker, as a new
# operator would paste it, from the repository's root. Only the ports and the data directory differ
# (through BASALT_* variables, which the commands read), so that the test neither collides with a
# node already running on this machine nor writes into ./data.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"

block=$(awk '/<!-- quick start: run verbatim by/ {marked = 1; next}
             marked && /^```sh$/ {inside = 1; next}
             inside && /^```$/ {exit}
             inside {print}' README.md)
[[ -n "$block" ]] || { echo "quickstart-test: no quick start block in README.md" >&2; exit 1; }

work=$(mktemp -d)
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
api_port=$(free_port)
export BASALT_DATA_DIR="$work/data"
export BASALT_API_PORT="$api_port"
export BASALT_API_URL="http://127.0.0.1:$api_port"
BASALT_NVME_PORT=$(free_port)
BASALT_NVME_DISCOVERY_PORT=$(free_port)
export BASALT_NVME_PORT BASALT_NVME_DISCOVERY_PORT

finish() {
    local status=$?
    # $! is the node: the quick start's only background command (bin/basalt execs java)
    if [[ -n "${!:-}" ]] && kill "$!" 2>/dev/null; then
        wait "$!" || true
    fi
    if [[ "$status" -ne 0 && -f "$work/output" ]]; then
        cat "$work/output" >&2
        echo "quickstart-test: failed (status $status); the quick start's output is above" >&2
    fi
    rm -rf "$work"
}
trap finish EXIT

echo "quickstart-test: running the README's quick start:" >&2
echo "$block" >&2
# Not in an || list: errexit must stop the block at its first failing command.
eval "$block" >"$work/output" 2>&1
cat "$work/output"

expect() {
    grep -Eq "$1" "$work/output" || { echo "quickstart-test: expected /$1/ in the output" >&2; exit 1; }
}
expect 'Basalt ready: '
expect '^nqn: +nqn\.2026-11\.io\.basalt:subsystem:'
expect '^connect: +nvme connect -t tcp -a 127\.0\.0\.1 -s '"$BASALT_NVME_PORT"' -n '
expect 'randwrite bs=4k .* IOPS'
expect '^volumes: +1$'
echo "quickstart-test: the quick start works" >&2
