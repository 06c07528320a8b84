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
