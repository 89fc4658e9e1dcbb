# The README's two commands: `make demo` (the main job) and `make test` (the whole suite).
PY := .venv/bin/python
SS := .venv/bin/stackscripts

.PHONY: setup test demo bench

setup:
	@bash .ci/setup.sh

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

demo: setup
	STACKSCRIPTS=$(SS) bash demo/run.sh

bench: setup
	$(PY) -m benchmarks
	$(PY) -m benchmarks.anatomy
	$(PY) -m benchmarks.flagship
