# Two commands on a fresh machine: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO := $(sort $(wildcard service/data/demo/ucdp-ged-*.csv))

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: .venv, migrate SQLite (data/ of this checkout), ingest the bundled UCDP demo data,
## train (detection runs after a published run), serve on :8000
run: $(STAMP)
	$(BIN)/sahelcast db upgrade
	$(BIN)/sahelcast ingest $(DEMO)
	$(BIN)/sahelcast train
	SAHELCAST_PUBLIC_READ=true $(BIN)/sahelcast serve --host 127.0.0.1 --port 8000

## test: the whole suite, SQLite and PostgreSQL (CI=true makes an unreachable PostgreSQL fail)
## The dashboard's browser test needs Debian's Chromium: installed here when missing and root
## (never a downloaded browser); without it that test skips, or fails under CI=true.
test: $(STAMP)
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium for the browser test (apt-get)"; \
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "could not install chromium: the browser test will skip (fail under CI=true)"; \
	fi
	$(BIN)/python -m pytest -n 2

## test-fast: the inner loop: the suite without the tests marked slow
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

## lint: the gates CI runs before the tests: ruff (lint and format) and mypy, on the code and
## its tests (mypy's packages: [tool.mypy] in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check service models tests bench
	$(BIN)/ruff format --check service models tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data
