# Every target sets itself up from nothing: a fresh clone and the machine's python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the runtime envs (MindSpore Lite 2.0.0 on CPython 3.7; MindSpore 2.10.0 on CPython 3.11, ~2.8 GB) go beside
# hubtool in .venv (hubtool-runtimes/): found with no variable set
RUNTIME := $(VENV)/.runtime-installed
# a single-node Ceph RGW (S3 API) on loopback for the object-storage tests; HUBTOOL_SKIP_RGW=1 skips it on purpose
RGW_DIR := $(CURDIR)/.rgw
export HUBTOOL_RGW_ENV := $(RGW_DIR)/env
# yaml-language-server (npm), the validator editors run, for the schema-agreement tests; HUBTOOL_SKIP_YAMLLS=1 skips it
YAMLLS_DIR := $(CURDIR)/.yamlls
YAMLLS := $(YAMLLS_DIR)/.installed
export HUBTOOL_YAML_LS := $(YAMLLS_DIR)/node_modules/.bin/yaml-language-server
# a real browser for the catalog's tests and the demo's screenshots: Debian's chromium and its driver;
# HUBTOOL_SKIP_BROWSER=1 skips it (and the browser tests) on purpose
BROWSER := $(VENV)/.browser-installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# wheels of hubtool's core and its build backend, so that the pre-commit test builds a hook env offline
WHEELHOUSE := $(CURDIR)/.wheelhouse
export HUBTOOL_WHEELHOUSE := $(WHEELHOUSE)

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(RUNTIME): $(STAMP) src/hubtool/runtimes/mslite/requirements-mslite.txt \
            src/hubtool/runtimes/mindspore/requirements-mindspore.txt
	$(BIN)/hubtool runtime install mindspore-lite
	$(BIN)/hubtool runtime install mindspore
	touch $(RUNTIME)

$(BROWSER): $(STAMP)
	@if [ "$${HUBTOOL_SKIP_BROWSER:-0}" = 1 ]; then echo "HUBTOOL_SKIP_BROWSER=1: no browser"; \
	elif command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	else $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null; }; fi
	touch $(BROWSER)

$(YAMLLS): tests/servers/yamlls/package.json tests/servers/yamlls/package-lock.json
	mkdir -p $(YAMLLS_DIR)
	cp $^ $(YAMLLS_DIR)/
	cd $(YAMLLS_DIR) && npm ci --no-audit --no-fund --silent
	touch $(YAMLLS)

$(WHEELHOUSE)/.built: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) . hatchling
	touch $@

# an editable install is never byte-compiled, and where PYTHONDONTWRITEBYTECODE is set (this machine) every
# hubtool process would compile the modules it imports again (~0.13 s): compiled here, as pip compiles a wheel
demo: $(RUNTIME) $(BROWSER)
	$(BIN)/python -m compileall -q src
	scripts/demo.sh

test: $(RUNTIME) $(YAMLLS) $(WHEELHOUSE)/.built $(BROWSER)
	$(BIN)/python -m compileall -q src
	@if [ "$${HUBTOOL_SKIP_RGW:-0}" != 1 ]; then tests/servers/rgw.sh start $(RGW_DIR); fi
	$(BIN)/python -m pytest -q; status=$$?; tests/servers/rgw.sh stop $(RGW_DIR); exit $$status

bench: $(RUNTIME)
	@for b in check download golden runtime legacy publish; do $(BIN)/python bench/$${b}_bench.py || exit 1; done
	tests/servers/rgw.sh start $(RGW_DIR); $(BIN)/python bench/s3_bench.py; status=$$?; \
	  tests/servers/rgw.sh stop $(RGW_DIR); exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .rgw .yamlls .wheelhouse dist build .pytest_cache .mypy_cache
