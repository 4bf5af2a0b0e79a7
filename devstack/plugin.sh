#!/bin/bash
# DevStack plugin: builds Basalt, runs a single storage node as the "basalt" service and makes it
# a Cinder backend (driver basalt_cinder.driver.BasaltDriver from python-shim/).
#
# Phases: install builds the node and installs the driver into DevStack's Python; post-config
# (before Cinder starts) starts the node with an admin token of its own, writes the backend into
# cinder.conf with lib/basalt-cinder-conf.sh (the same code the end-to-end test runs) and prepares
# this host as an NVMe/TCP host for Nova; extra creates the volume type; unstack stops the node;
# clean removes its data and the backend from enabled_backends.
# shellcheck shell=bash

# shellcheck source=devstack/lib/basalt-cinder-conf.sh
source "$BASALT_DIR/devstack/lib/basalt-cinder-conf.sh"

function install_basalt {
    (cd "$BASALT_DIR" && mvn -B -q -DskipTests package)
    if is_service_enabled cinder; then
        pip_install -e "$BASALT_DIR/python-shim"
    fi
    # os-brick's NVMe-oF connector (Nova, and Cinder for image/backup copies) runs nvme-cli
    install_package nvme-cli
}

# The admin token: generated once, kept in the node's config file (mode 0600).
function configure_basalt {
    sudo install -d -o "$STACK_USER" -m 0750 "$BASALT_CONF_DIR"
    if [[ ! -s "$BASALT_CONF_FILE" ]] || ! grep -q '^api.admin-token' "$BASALT_CONF_FILE"; then
        (umask 077 && printf 'api.admin-token = %s\n' "$(openssl rand -hex 32)" > "$BASALT_CONF_FILE")
    fi
}

function basalt_admin_token {
    sed -n 's/^api.admin-token[[:space:]]*=[[:space:]]*//p' "$BASALT_CONF_FILE"
}

function start_basalt {
    mkdir -p "$BASALT_DATA_DIR"
    run_process basalt "$BASALT_DIR/bin/basalt serve --data-dir $BASALT_DATA_DIR \
--config $BASALT_CONF_FILE \
--nvme.bind=$BASALT_BIND --nvme.advertised-address=$BASALT_ADVERTISED_ADDRESS \
--nvme.port=$BASALT_NVME_PORT --nvme.discovery-port=$BASALT_DISCOVERY_PORT \
--api.bind=$BASALT_BIND --api.port=$BASALT_API_PORT"
    local _
    for _ in $(seq 1 120); do
        if curl -sf "http://$BASALT_BIND:$BASALT_API_PORT/api/v1/health" >/dev/null; then
            return 0
        fi
        sleep 1
    done
    die $LINENO "the Basalt node did not answer on $BASALT_BIND:$BASALT_API_PORT within 120 s"
}

function stop_basalt {
    stop_process basalt
}

# This host as an NVMe/TCP host: the nvme-tcp module and a host NQN (os-brick reads
# /etc/nvme/hostnqn and sends it to Cinder as the connector's "nqn").
function configure_basalt_nvme_host {
    sudo modprobe nvme-tcp || warn $LINENO "cannot load nvme-tcp: attaching Basalt volumes here will fail"
    if [[ ! -s /etc/nvme/hostnqn ]]; then
        sudo install -d -m 0755 /etc/nvme
        nvme gen-hostnqn | sudo tee /etc/nvme/hostnqn >/dev/null
    fi
}

function configure_basalt_cinder {
    basalt_cinder_backend_conf "$CINDER_CONF" "$BASALT_CINDER_BACKEND" \
        "http://$BASALT_BIND:$BASALT_API_PORT" "$(basalt_admin_token)"
}

function create_basalt_volume_type {
    if ! openstack volume type show "$BASALT_VOLUME_TYPE" >/dev/null 2>&1; then
        local props=(--property "volume_backend_name=$BASALT_CINDER_BACKEND")
        if [[ -n "$BASALT_VOLUME_TYPE_COMPRESSION" ]]; then
            props+=(--property "basalt:compression=<is> $BASALT_VOLUME_TYPE_COMPRESSION")
        fi
        openstack volume type create "${props[@]}" "$BASALT_VOLUME_TYPE"
    fi
}

if is_service_enabled basalt; then
    case "$1" in
        stack)
            case "$2" in
                install)
                    install_basalt
                    ;;
                post-config)
                    configure_basalt
                    start_basalt
                    if is_service_enabled cinder && [[ -n "$BASALT_CINDER_BACKEND" ]]; then
                        configure_basalt_cinder
                    fi
                    if is_service_enabled n-cpu c-vol; then
                        configure_basalt_nvme_host
                    fi
                    ;;
                extra)
                    if is_service_enabled cinder && [[ -n "$BASALT_CINDER_BACKEND" ]]; then
                        create_basalt_volume_type
                    fi
                    ;;
            esac
            ;;
        unstack)
            stop_basalt
            ;;
        clean)
            if [[ -n "$BASALT_CINDER_BACKEND" ]] && [[ -n "${CINDER_CONF:-}" ]]; then
                basalt_cinder_backend_unconf "$CINDER_CONF" "$BASALT_CINDER_BACKEND"
            fi
            rm -rf "$BASALT_DATA_DIR"
            sudo rm -rf "$BASALT_CONF_DIR"
            ;;
    esac
fi
