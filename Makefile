# The two commands in the README: `make run` and `make test`. Each installs what it needs, and no more:
# `make run` the app and its GUI extra, `make test` adds the test and lint tools to the same venv.
PY ?= python3
VENV := .venv
# A stamp names what was installed and from which files; editing any of them installs again.
INPUTS_SUM := $(shell cat pyproject.toml setup.py constraints.txt Makefile | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(INPUTS_SUM)
TEST_STAMP := $(VENV)/.installed-test-$(INPUTS_SUM)
EXAMPLE ?= resources/examples/mnist_cnn.nbproj
# The X server for test-gui-x: a screen as big as a desktop's, so windows are not clipped.
XVFB_SCREEN := -screen 0 1600x1000x24

.PHONY: run demo test test-gui-x test-engine-no-qt test-wheel test-bundle bundle lint benchmarks clean

$(RUN_STAMP): pyproject.toml setup.py constraints.txt
	rm -f $(VENV)/.installed-*
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[gui]'
	touch $@

# Needs the run stamp first, so that a fresh `make test` and a `make test` after `make run` install the same.
$(TEST_STAMP): $(RUN_STAMP)
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[gui,test,test-gui,dev]'
	touch $@

## run: the desktop app (it opens on the digits CNN example); FILE=x.nbproj opens a project
run: $(RUN_STAMP)
	$(VENV)/bin/netbuilder $(FILE)

## demo: the headless commands on a built-in example (no display needed)
demo: $(RUN_STAMP)
	$(VENV)/bin/netbuilder check $(EXAMPLE)
	$(VENV)/bin/netbuilder summary $(EXAMPLE)

## test: the whole test suite (GUI tests offscreen)
test: $(TEST_STAMP)
	$(VENV)/bin/python -m pytest -q

## test-gui-x: the GUI tests once more on a real X server (Xvfb), where X11's key bindings and focus apply
test-gui-x: $(TEST_STAMP)
	@command -v xvfb-run >/dev/null || (echo "test-gui-x needs xvfb-run: apt-get install xvfb xauth (.ci/run installs it)" && exit 1)
	QT_QPA_PLATFORM=xcb xvfb-run -a -s '$(XVFB_SCREEN)' $(VENV)/bin/python -m pytest -q tests/ui

## test-engine-no-qt: the engine's tests in a venv that has no Qt at all
ENGINE_VENV := .venv-engine
ENGINE_STAMP := $(ENGINE_VENV)/.installed-$(INPUTS_SUM)
$(ENGINE_STAMP): pyproject.toml setup.py constraints.txt
	rm -f $(ENGINE_VENV)/.installed-*
	$(PY) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/pip install -q -c constraints.txt -e '.[test,dev]'
	touch $@
test-engine-no-qt: $(ENGINE_STAMP)
	@! $(ENGINE_VENV)/bin/python -c "import PySide6" 2>/dev/null || (echo "PySide6 is installed in $(ENGINE_VENV); this job must run without Qt" && exit 1)
	$(ENGINE_VENV)/bin/python -m pytest -q tests/engine

## test-wheel: build the wheel, install it with the tested versions into a fresh venv outside the checkout, run it
test-wheel:
	PY=$(PY) bash .ci/test_wheel.sh

## bundle: the desktop app as a one-folder build, a .tar.gz and a .deb (packaging/README.md), in its own venv
bundle:
	PY=$(PY) bash packaging/build.sh

## test-bundle: the bundle built from nothing, and its --self-test run from a folder outside the checkout
test-bundle:
	PY=$(PY) bash .ci/test_bundle.sh

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

benchmarks: $(RUN_STAMP)
	for b in benchmarks/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(ENGINE_VENV) .pytest_cache .ruff_cache .hypothesis build/bundle
