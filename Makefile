# `make run` and `make test` are all a newcomer needs (`make sink` to try a campaign); the rest are their steps.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := app/static/vendor
export FLASK_APP := run
# Compiled modules are kept (in git-ignored __pycache__ folders) even where the environment says not to:
# without them each test process, worker and beat compiles the app and pytest rewrites every test
# module again, which made `make test-fast` take a third longer.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast check sink install install-dev assets migrate lint typecheck format clean bench bench-send bench-dispatch bench-import bench-web bench-tenancy bench-audience bench-postfix

# honcho with the Procfile (app/devtools/run.py): Ctrl-C stops web, worker and beat and ends the run.
run: install assets migrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m app.devtools.run

# Two test processes (pytest-xdist), each given its next test as it frees up.
PARALLEL ?= -n 2
# The tests' files (SQLite databases, logs) in memory where the machine has a tmpfs: every commit syncs.
TEST_TMPDIR ?= $(shell test -w /dev/shm && echo /dev/shm || echo $${TMPDIR:-/tmp})

test: install-dev assets
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest $(PARALLEL) $(PYTEST_ARGS)

# The suite without the browser tests and the tests that start real processes (workers, beat, make run,
# gunicorn, the sink): the quick loop while editing; `make test` runs everything.
test-fast: install-dev assets
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest $(PARALLEL) -m "not browser and not processes" $(PYTEST_ARGS)

# What CI checks, the cheapest first: ruff, mypy, then the whole suite.
check: lint typecheck test

# A test SMTP server on 127.0.0.1:1025 (or SINK_PORT) that prints each email it receives (README).
sink: install-dev
	$(BIN)/python -m app.devtools.sink

# Set-up steps hold a lock, so `make run` and `make sink` started together on a fresh clone do not both
# build the virtualenv or install into it at once (where flock exists: util-linux, on every Linux).
LOCKED := $(shell command -v flock >/dev/null && echo flock $(CURDIR)/.setup.lock)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(LOCKED) sh -c 'test -x $@ || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip; }'

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(LOCKED) $(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(LOCKED) $(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

assets: $(VENDOR)/.built

$(VENDOR)/.built: package.json package-lock.json
	$(LOCKED) npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bootstrap
	cp node_modules/bootstrap/dist/css/bootstrap.min.css* node_modules/bootstrap/dist/js/bootstrap.bundle.min.js* $(VENDOR)/bootstrap/
	mkdir -p $(VENDOR)/quill
	cp node_modules/quill/dist/quill.js node_modules/quill/dist/quill.js.map node_modules/quill/dist/quill.snow.css node_modules/quill/dist/quill.snow.css.map $(VENDOR)/quill/
	mkdir -p $(VENDOR)/chartjs
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map $(VENDOR)/chartjs/
	mkdir -p $(VENDOR)/axe
	cp node_modules/axe-core/axe.min.js $(VENDOR)/axe/
	touch $@

migrate: install
	$(BIN)/flask db upgrade

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (docs/benchmarks.md): each creates its own database on the PostgreSQL server of
# BENCH_DATABASE_URL and uses BENCH_REDIS_URL (defaults in bench/common.py: local server, Redis db 14).
bench: bench-send bench-dispatch bench-import bench-web bench-tenancy bench-audience

bench-send: install-dev
	$(BIN)/python -m bench.send

# bench-send against a private Postfix on loopback (bench/postfix.py). Needs Postfix, which CI does not
# install and `make bench` does not run: apt-get install -y postfix (debconf "No configuration").
bench-postfix: install-dev
	$(BIN)/python -m bench.send --server postfix

bench-dispatch: install-dev
	$(BIN)/python -m bench.dispatch

bench-import: install-dev
	$(BIN)/python -m bench.import_csv

bench-audience: install-dev
	$(BIN)/python -m bench.audience

# Sizes, emails per account, interval and tick: BENCH_TENANCY_SIZES=10,100,1000 BENCH_TENANCY_EMAILS=4
# BENCH_TENANCY_INTERVAL=10 BENCH_TENANCY_TICK=2. Needs `ulimit -n` >= 2 x the largest size + 64.
bench-tenancy: install-dev
	$(BIN)/python -m bench.tenancy

# Needs wrk (Debian's package; .ci/run installs it).
bench-web: install-dev
	$(BIN)/python -m bench.web

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
