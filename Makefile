# Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12+: take the first suitable interpreter on PATH or under pyenv.
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[23]*/bin/python 2>/dev/null | sort -r) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
SANDBOX_PORT ?= 4566
PORT ?= 8000

.PHONY: help install run test test-embedded lint sandbox worker bench clean

help:
	@echo "make run    set up and start the dashboard with the sandbox (http://127.0.0.1:$(PORT))"
	@echo "make test   set up and run every test"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.12 or newer is required (Django 6); install one or set PYTHON=/path/to/python3.12" >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,sandbox]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py loaddemo --i-know  # this machine only: the dashboard listens on 127.0.0.1
	@bash scripts/run.sh $(PORT) $(SANDBOX_PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run >/dev/null

test: install lint
	@command -v chromium >/dev/null || { echo "error: the browser tests need Debian's chromium: apt-get install -y chromium" >&2; exit 1; }
	$(VENV)/bin/pytest

# The embedded mode (SQLite, in-process workers, in-memory channel layer) on its own. The two
# walks left out check rules that do not depend on the database or the workers (each URL for
# each role; each schema field from form to blueprint): `make test` runs them on PostgreSQL.
test-embedded: install
	env -u DATABASE_URL -u REDIS_URL $(VENV)/bin/pytest tests/dashboard tests/e2e \
		--ignore=tests/dashboard/test_permissions_matrix.py \
		--ignore=tests/dashboard/test_schema_forms.py

sandbox: install
	$(PY) manage.py sandbox

worker: install
	$(PY) manage.py rundramatiq --processes 1 --threads 8

bench: install
	$(PY) bench/deploy.py --agents 10,50
	$(PY) bench/plan.py --agents 500

clean:
	rm -rf $(VENV) var
