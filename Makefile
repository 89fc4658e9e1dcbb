# The README's two commands: `make demo` (the main job) and `make test` (the whole suite).
PY := .venv/bin/python
SS := .venv/bin/stackscripts

.PHONY: setup test demo bench

setup:
	@bash .ci/setup.sh

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

demo: setup
	$(SS) templates validate servertemplates/docker-all-in-one.yaml servertemplates/packages-all-in-one.yaml
	$(SS) templates render servertemplates/docker-all-in-one.yaml --phase boot -o out/docker-all-in-one

bench: setup
	$(PY) -m benchmarks
