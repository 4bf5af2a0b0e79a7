#!/bin/bash
# The one place that writes a Basalt backend into cinder.conf. Sourced by devstack/plugin.sh and
# run by the end-to-end test (python-shim/e2e/e2e.py) so that both configure Cinder the same way:
#
#   basalt_cinder_backend_conf CINDER_CONF BACKEND API_ADDRESSES TOKEN
#
# writes section [BACKEND] (volume_driver, volume_backend_name = BACKEND, basalt_api_*) and adds
# BACKEND to [DEFAULT] enabled_backends (kept once). Optional environment:
#   BASALT_API_VERIFY_TLS       true | false | CA bundle path   (default: true)
#   BASALT_API_TIMEOUT          seconds                        (default: 60)
#   BASALT_DEFAULT_COMPRESSION  true | false                   (default: unset, the node's default)
#   BASALT_DEFAULT_REPLICAS     1..3                           (default: unset, the node's default)
#
# Run as a script it takes the same arguments: bash basalt-cinder-conf.sh CONF BACKEND URLS TOKEN.
# shellcheck shell=bash

# _basalt_ini_set FILE SECTION KEY VALUE: sets KEY = VALUE in [SECTION], replacing the first
# uncommented KEY there or adding it; creates the section (and the file) when missing.
_basalt_ini_set() {
    local file="$1" section="$2" key="$3" value="$4" tmp
    [ -f "$file" ] || : > "$file"
    tmp="$(mktemp "$file.XXXXXX")"
    awk -v section="$section" -v key="$key" -v value="$value" '
        function emit() { print key " = " value; done = 1 }
        /^[ \t]*\[.*\][ \t]*$/ {
            if (in_section && !done) emit()
            name = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", name)
            in_section = (name == section); seen = seen || in_section
            print; next
        }
        in_section && !done {
            line = $0; sub(/^[ \t]+/, "", line)
            if (index(line, key) == 1) {
                rest = substr(line, length(key) + 1)
                if (rest ~ /^[ \t]*=/) { emit(); next }
            }
        }
        { print }
        END {
            if (in_section && !done) emit()
            if (!seen) { print ""; print "[" section "]"; emit() }
        }' "$file" > "$tmp"
    cat "$tmp" > "$file"
    rm -f "$tmp"
}

# _basalt_ini_get FILE SECTION KEY: prints the value of KEY in [SECTION] (empty if none).
_basalt_ini_get() {
    awk -v section="$2" -v key="$3" '
        /^[ \t]*\[.*\][ \t]*$/ { name = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", name); in_s = (name == section); next }
        in_s {
            line = $0; sub(/^[ \t]+/, "", line)
            if (index(line, key) == 1) {
                rest = substr(line, length(key) + 1)
                if (rest ~ /^[ \t]*=/) { sub(/^[ \t]*=[ \t]*/, "", rest); print rest; exit }
            }
        }' "$1"
}

basalt_cinder_backend_conf() {
    local conf="$1" backend="$2" addresses="$3" token="$4" enabled
    if [ -z "$conf" ] || [ -z "$backend" ] || [ -z "$addresses" ] || [ -z "$token" ]; then
        echo "usage: basalt_cinder_backend_conf CINDER_CONF BACKEND API_ADDRESSES TOKEN" >&2
        return 2
    fi
    _basalt_ini_set "$conf" "$backend" volume_driver basalt_cinder.driver.BasaltDriver
    _basalt_ini_set "$conf" "$backend" volume_backend_name "$backend"
    _basalt_ini_set "$conf" "$backend" basalt_api_addresses "$addresses"
    _basalt_ini_set "$conf" "$backend" basalt_api_token "$token"
    _basalt_ini_set "$conf" "$backend" basalt_api_verify_tls "${BASALT_API_VERIFY_TLS:-true}"
    _basalt_ini_set "$conf" "$backend" basalt_api_timeout "${BASALT_API_TIMEOUT:-60}"
    if [ -n "${BASALT_DEFAULT_COMPRESSION:-}" ]; then
        _basalt_ini_set "$conf" "$backend" basalt_default_compression "$BASALT_DEFAULT_COMPRESSION"
    fi
    if [ -n "${BASALT_DEFAULT_REPLICAS:-}" ]; then
        _basalt_ini_set "$conf" "$backend" basalt_default_replicas "$BASALT_DEFAULT_REPLICAS"
    fi
    enabled="$(_basalt_ini_get "$conf" DEFAULT enabled_backends)"
    case ",${enabled// /}," in
        *",$backend,"*) ;;
        ",,") _basalt_ini_set "$conf" DEFAULT enabled_backends "$backend" ;;
        *) _basalt_ini_set "$conf" DEFAULT enabled_backends "$enabled,$backend" ;;
    esac
}

# basalt_cinder_backend_unconf CINDER_CONF BACKEND: takes BACKEND out of enabled_backends (the
# section stays, inert).
basalt_cinder_backend_unconf() {
    local conf="$1" backend="$2" enabled kept="" b
    [ -f "$conf" ] || return 0
    enabled="$(_basalt_ini_get "$conf" DEFAULT enabled_backends)"
    IFS=',' read -r -a list <<< "${enabled// /}"
    for b in "${list[@]}"; do
        [ -n "$b" ] && [ "$b" != "$backend" ] && kept="${kept:+$kept,}$b"
    done
    _basalt_ini_set "$conf" DEFAULT enabled_backends "$kept"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    basalt_cinder_backend_conf "$@"
fi
