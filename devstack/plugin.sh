#!/bin/bash
# DevStack plugin: builds Basalt and runs a single storage node as the "basalt" service.
# The Cinder backend configuration arrives with the Cinder driver (python-shim/).
# shellcheck shell=bash

function install_basalt {
    (cd "$BASALT_DIR" && mvn -B -q -DskipTests package)
}

function start_basalt {
    mkdir -p "$BASALT_DATA_DIR"
    run_process basalt "$BASALT_DIR/bin/basalt serve --data-dir $BASALT_DATA_DIR \
--nvme.bind=$BASALT_BIND --nvme.port=$BASALT_NVME_PORT --nvme.discovery-port=$BASALT_DISCOVERY_PORT \
--api.bind=$BASALT_BIND --api.port=$BASALT_API_PORT"
}

function stop_basalt {
    stop_process basalt
}

if is_service_enabled basalt; then
    case "$1" in
        stack)
            case "$2" in
                install) install_basalt ;;
                extra) start_basalt ;;
            esac
            ;;
        unstack)
            stop_basalt
            ;;
        clean)
            rm -rf "$BASALT_DATA_DIR"
            ;;
    esac
fi
