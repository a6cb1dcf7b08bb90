# The two commands in the README: `make run` and `make test`. Each installs what it needs.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt Makefile | cksum | cut -d' ' -f1)
EXAMPLE ?= resources/examples/mnist_cnn.nbproj

.PHONY: run demo test test-engine-no-qt lint benchmarks clean

$(STAMP): pyproject.toml constraints.txt
	rm -f $(VENV)/.installed-*
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[gui,test,test-gui,dev]'
	touch $@

## run: the desktop app (it opens on the digits CNN example); FILE=x.nbproj opens a project
run: $(STAMP)
	$(VENV)/bin/netbuilder $(FILE)

## demo: the headless commands on a built-in example (no display needed)
demo: $(STAMP)
	$(VENV)/bin/netbuilder check $(EXAMPLE)
	$(VENV)/bin/netbuilder summary $(EXAMPLE)

## test: the whole test suite
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

## test-engine-no-qt: the engine's tests in a venv that has no Qt at all
ENGINE_VENV := .venv-engine
ENGINE_STAMP := $(ENGINE_VENV)/.installed-$(shell cat pyproject.toml constraints.txt Makefile | cksum | cut -d' ' -f1)
$(ENGINE_STAMP): pyproject.toml constraints.txt
	rm -f $(ENGINE_VENV)/.installed-*
	$(PY) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/pip install -q -c constraints.txt -e '.[test,dev]'
	touch $@
test-engine-no-qt: $(ENGINE_STAMP)
	@! $(ENGINE_VENV)/bin/python -c "import PySide6" 2>/dev/null || (echo "PySide6 is installed in $(ENGINE_VENV); this job must run without Qt" && exit 1)
	$(ENGINE_VENV)/bin/python -m pytest -q tests/engine

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(ENGINE_VENV) .pytest_cache .ruff_cache .hypothesis
