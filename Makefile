# Two commands on a fresh machine: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO := service/data/demo/ucdp-ged-burkina-faso-2016-2022.csv

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: create .venv, migrate the SQLite database, ingest the bundled UCDP demo data
run: $(STAMP)
	$(BIN)/sahelcast db upgrade
	$(BIN)/sahelcast ingest $(DEMO)
	$(BIN)/sahelcast series list --level actor_region --limit 15

## test: the whole suite, SQLite and PostgreSQL (CI=true makes an unreachable PostgreSQL fail)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check service models tests bench
	$(BIN)/ruff format --check service models tests bench

clean:
	rm -rf $(VENV) data
