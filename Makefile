# Một cửa — `make run` sets up and serves the demo; `make test` sets up and runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist); 0 runs everything in this process.
TEST_WORKERS ?= 2
# The moment the suite runs at, e.g. CLOCK=2027-02-05T16:55:00+07:00 (empty: the real clock; see tests/clock.py).
CLOCK ?=

.PHONY: run test bench lint format messages migrate demo browser clean

$(STAMP): requirements.txt requirements-dev.txt scripts/find-python.sh
	@test -x $(PY) || { python=$$(scripts/find-python.sh) && echo "Creating $(VENV) with $$python" && $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

messages: $(STAMP)
	@$(PY) scripts/compile_messages.py

migrate: $(STAMP) messages
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py demo_pki

run: demo
	@HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# Debian packages Python cannot bring (Chromium for Playwright, poppler-utils, Pango).
browser:
	@scripts/ensure-debian-packages.sh

test: $(STAMP) messages browser
	MOTCUA_TEST_CLOCK="$(CLOCK)" $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(STAMP) messages
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var
