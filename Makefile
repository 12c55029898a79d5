# medChina Intake — the two commands:
#   make run    set up and run the app on the embedded default (http://127.0.0.1:8000)
#   make test   set up and run every check and the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.12 || command -v python3.13 || command -v python3)

.PHONY: run test check pytest venv system-deps clean

$(VENV)/.installed: requirements/dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "medChina Intake needs Python 3.12 or newer (found " + sys.version.split()[0] + "). Install it, or run: PYTHON=/path/to/python3.12 make ...")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@

venv: $(VENV)/.installed

system-deps:
	@bin/system-deps

run: venv system-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	bin/run-dev

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	bin/check-deploy
	bin/check-compose

pytest: venv system-deps
	$(VENV)/bin/pytest

test: venv system-deps check pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
