# shellcheck shell=bash
# Helpers shared by the fleet scripts: make sure a Docker engine answers.

apt_install() {
    if [ -z "${__apt_updated:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        __apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_engine() {
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "[fleet] no Docker engine installed: installing Debian's docker.io" >&2
        apt_install docker.io
    fi
    if docker info >/dev/null 2>&1; then
        heal_default_bridge
        return 0
    fi
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl start docker >/dev/null 2>&1 || true
    fi
    if ! docker info >/dev/null 2>&1; then
        echo "[fleet] starting dockerd (log: /var/log/cloudos-fleet-dockerd.log)" >&2
        # setsid: the engine outlives this script; it is the machine's engine from now on.
        setsid dockerd >/var/log/cloudos-fleet-dockerd.log 2>&1 </dev/null &
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && break
            sleep 1
        done
    fi
    if ! docker info >/dev/null 2>&1; then
        tail -20 /var/log/cloudos-fleet-dockerd.log >&2 || true
        echo "[fleet] the Docker engine did not start (log above)" >&2
        return 1
    fi
}

# A dockerd started elsewhere with --bridge=none deletes the host's docker0 interface, after
# which the engine cannot start containers on its default network. Put the bridge back.
heal_default_bridge() {
    ip link show docker0 >/dev/null 2>&1 && return 0
    local subnet gateway
    subnet=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null) || return 0
    gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null) || return 0
    [ -n "$subnet" ] && [ -n "$gateway" ] || return 0
    echo "[fleet] docker0 is missing: recreating it ($gateway/${subnet#*/})" >&2
    ip link add docker0 type bridge && ip addr add "$gateway/${subnet#*/}" dev docker0 && ip link set docker0 up
}
