# The README's two commands: `make demo` (the main job) and `make test` (the whole suite).
PY := .venv/bin/python
SS := .venv/bin/stackscripts

.PHONY: setup check test demo bench bench-sharing bench-store

setup:
	@bash .ci/setup.sh

test: setup check
	$(PY) -m pytest -q -p no:cacheprovider

# lint and types (rules in pyproject.toml); part of `make test`, so CI fails on a new finding
check: setup
	$(PY) -m ruff check stackscripts tests benchmarks
	$(PY) -m mypy

demo: setup
	STACKSCRIPTS=$(SS) bash demo/run.sh

# every tool as a whole process on 1, 20 and 50 sshd hosts, then 500 (docs/performance.md); as root, the hosts'
# process starts are counted from the kernel's process events. anatomy profiles with py-spy (the test extra).
bench: setup
	$(PY) -m benchmarks
	$(PY) -m benchmarks.anatomy
	$(PY) -m benchmarks.flagship
	$(PY) -m benchmarks.thresholds
	$(PY) -m benchmarks.queue_sim
	$(PY) -m benchmarks.queue_fleet

# shared libraries: fetch through each source, validate against 5,000 locked scripts (docs/performance-sharing.md)
bench-sharing: setup
	$(PY) -m benchmarks.sharing

# the team store: a fleet, output chunks and runs list on SQLite beside PostgreSQL (docs/performance-store.md)
bench-store: setup
	$(PY) -m benchmarks.store
