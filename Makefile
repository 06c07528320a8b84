# cloudos.ops — developer entry points. `make demo` and `make test` are the two that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
LINK      := .collections/ansible_collections/cloudos/ops
CACHE     := .cache
# Scenarios run MOLECULE_JOBS at a time (default 3): they mostly wait on systemd and Ansible.
ALL_SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# Longest first, so that the parallel run does not end waiting on one long scenario.
LONG_SCENARIOS := hardening backup daily_health maintenance
SCENARIOS ?= $(filter $(LONG_SCENARIOS),$(ALL_SCENARIOS)) $(filter-out $(LONG_SCENARIOS),$(ALL_SCENARIOS))
# Debian packages the tests use (installed by `make setup-system` when missing).
SYSTEM_PACKAGES := docker.io debootstrap busybox-static openssl nginx-light chromium shellcheck pigz logrotate \
                   prometheus prometheus-alertmanager prometheus-node-exporter
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup setup-system fleet-image demo demo-fleet test lint sanity unit compat integration molecule build ee-context clean

help:
	@echo "make demo     run the daily health check on this machine and print where the report is"
	@echo "make demo-fleet  three fleet hosts with planted faults, two runs, the report with its diff"
	@echo "make test     everything CI runs: lint, sanity, unit, integration, Molecule (fleet)"
	@echo "make setup    create $(VENV) with the pinned toolchain (idempotent)"
	@echo "make build    build the collection tarball"
	@echo "make ee-context  the execution environment build context (.cache/ee/context)"
	@echo "Stages: lint sanity unit compat integration molecule [SCENARIOS='default ...']"

# --- toolchain -------------------------------------------------------------------------
setup: $(STAMP) $(LINK)

$(STAMP): requirements.txt requirements-dev.txt
	@py=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet -r requirements-dev.txt 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

$(LINK):
	@mkdir -p $(dir $@) && ln -sfn ../../.. $@

setup-system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

fleet-image: setup-system
	@mkdir -p $(CACHE) && tests/fleet/build-image > $(CACHE)/fleet-image && echo "fleet image: $$(cat $(CACHE)/fleet-image)"

# --- the two commands -----------------------------------------------------------------
demo: setup
	@$(VENV)/bin/ansible-playbook -i inventories/local playbooks/daily_health.yml; rc=$$?; \
	echo "Report: $(CURDIR)/playbooks/reports/daily_health/latest/report.html"; exit $$rc

demo-fleet: setup
	@scripts/demo-fleet

test:
	@scripts/run-stages setup setup-system bg:fleet-image lint sanity unit compat wait integration molecule

# --- stages ---------------------------------------------------------------------------
# Molecule installs this collection into ~/.ansible/collections; ansible-lint would then read
# that copy (of whatever commit ran last) instead of the checkout, so it is removed first.
lint: setup
	@rm -rf $(HOME)/.ansible/collections/ansible_collections/cloudos/ops
	@rc=0; \
	echo "yamllint --strict ."; $(VENV)/bin/yamllint --strict . || rc=1; \
	echo "ansible-lint --profile production"; $(VENV)/bin/ansible-lint --profile production --offline || rc=1; \
	exit $$rc

sanity: setup
	@scripts/sanity

unit: setup
	$(VENV)/bin/pytest -p no:testinfra tests/unit

# The oldest ansible-core that meta/runtime.yml's requires_ansible allows, on Python 3.12 (the
# newest it supports): the unit tests and one daily_health run (run_playbook uses the
# ansible-playbook of the pytest that runs it). Pins: requirements-compat.txt.
COMPAT_VENV  := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed
COMPAT_RUN   := tests/integration/report/test_daily_health_playbook.py::test_local_run_writes_the_four_files_prints_the_path_and_publishes_stats

$(COMPAT_STAMP): requirements-compat.txt
	@py=; for c in $${COMPAT_PYTHON:-} $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12.*/bin/python3 2>/dev/null | sort -rV) \
	        $$(command -v python3.12); do \
		if "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then py=$$c; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "compat: no Python 3.12 that runs (pyenv 3.12.x, python3.12 on PATH, or COMPAT_PYTHON)" >&2; exit 1; fi; \
	if [ ! -x $(COMPAT_VENV)/bin/python ] || ! $(COMPAT_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
		echo "Creating $(COMPAT_VENV) with $$py"; rm -rf $(COMPAT_VENV); "$$py" -m venv $(COMPAT_VENV) || exit 1; \
	fi
	$(COMPAT_VENV)/bin/python -m pip install --quiet -r requirements-compat.txt 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

compat: $(COMPAT_STAMP) $(LINK)
	@$(COMPAT_VENV)/bin/ansible --version | head -1
	$(COMPAT_VENV)/bin/pytest -p no:testinfra -p no:cacheprovider tests/unit
	$(COMPAT_VENV)/bin/pytest -p no:testinfra -p no:cacheprovider $(COMPAT_RUN)

# Some integration tests start fleet hosts (ansible-runner, repair, diagnostics): they need the image.
# Two workers (INTEGRATION_JOBS): most tests wait on Ansible runs, hosts and servers. A test
# package's tests stay on one worker (tests/integration/conftest.py); 1 runs them in one process.
INTEGRATION_JOBS ?= 2
integration: setup setup-system fleet-image
	CLOUDOS_FLEET_IMAGE=$$(cat $(CACHE)/fleet-image) $(VENV)/bin/pytest -p no:testinfra \
		$(if $(filter-out 1,$(INTEGRATION_JOBS)),-n $(INTEGRATION_JOBS) --dist loadscope) tests/integration

molecule: setup fleet-image
	@CLOUDOS_FLEET_IMAGE=$$(cat $(CACHE)/fleet-image) scripts/molecule-all $(SCENARIOS)

build: setup
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(CACHE)/dist .

# The execution environment's build context (offline): build the image from it with podman or docker.
ee-context: setup
	@scripts/ee-context $(CACHE)/ee

clean:
	rm -rf $(CACHE) .collections collections .pytest_cache
