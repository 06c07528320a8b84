# shellcheck shell=sh
# Opt-in profile: run playbooks through Mitogen for Ansible (mitogen==0.3.54, requirements-dev.txt)
# instead of plain ansible-core. Source it in the shell that runs ansible-playbook:
#
#   . profiles/mitogen.sh                      # the python3 on PATH has mitogen installed
#   PYTHON=.venv/bin/python . profiles/mitogen.sh
#   ansible-playbook playbooks/daily_health.yml -i <inventory>
#
# It sets the two settings Mitogen needs (the same as an ansible.cfg [defaults] section with
# strategy_plugins = <site-packages>/ansible_mitogen/plugins/strategy and strategy = mitogen_linear;
# the path depends on where mitogen is installed, hence a script). Unset both to go back.
#
# Mitogen drives the connections it knows by their short names: ssh, local, docker, podman,
# lxc, lxd, kubectl, buildah, machinectl, setns, su, sudo, doas. A host whose connection is
# community.docker.docker is not redirected: the play runs, without Mitogen, as plain Ansible.
# Use ansible_connection: docker for containers (docs/performance.md#mitogen).
__cloudos_mitogen_strategy=$("${PYTHON:-python3}" -c 'import os, ansible_mitogen; print(os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy"))') || {
    echo "profiles/mitogen.sh: mitogen is not installed for ${PYTHON:-python3} (pip install mitogen==0.3.54)" >&2
    return 1
}
# profiles/mitogen/mitogen_linear.py goes first: Mitogen's mitogen_linear with the installed
# collections listed once per run instead of once per host and task (see its docstring). The
# directory of this file: bash says where a sourced file is; other shells take
# CLOUDOS_PROFILES, else ./profiles (the checkout's root as the working directory).
if [ -n "${BASH_VERSION:-}" ]; then
    # shellcheck disable=SC3028,SC2128
    __cloudos_profiles=$(dirname -- "$BASH_SOURCE")
else
    __cloudos_profiles=${CLOUDOS_PROFILES:-profiles}
fi
if [ -f "$__cloudos_profiles/mitogen/mitogen_linear.py" ]; then
    __cloudos_mitogen_strategy="$(cd "$__cloudos_profiles/mitogen" && pwd):$__cloudos_mitogen_strategy"
else
    echo "profiles/mitogen.sh: $__cloudos_profiles/mitogen/mitogen_linear.py not found (set CLOUDOS_PROFILES to the profiles directory); using Mitogen's own mitogen_linear" >&2
fi
export ANSIBLE_STRATEGY_PLUGINS="$__cloudos_mitogen_strategy"
export ANSIBLE_STRATEGY=mitogen_linear
unset __cloudos_mitogen_strategy __cloudos_profiles
