# Every install step lives here, so a fresh machine needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000
# The suite runs on every core (pytest-xdist), at most four: each worker holds the apology
# check's Korean analyser (about 0.5 GB). TEST_WORKERS=0 runs it in one process. The suite has
# no benchmarks (those are bench/), and pytest-benchmark refuses to load beside xdist.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --maxprocesses 4 -p no:benchmark

.PHONY: check-train check-eval run dev test test-pg test-browser api-fuzz bench demo lint install install-dev postgres chromium wrk translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.app-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.app-installed $@

install: $(VENV)/.app-installed
install-dev: $(VENV)/.dev-installed

run: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

dev: install
	$(FLASK) db upgrade
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

demo: install
	$(FLASK) db upgrade
	$(FLASK) demo

test: install-dev
	$(BIN)/python -m pytest -m "not browser" $(XDIST)

# The same suite against PostgreSQL (started here if it is down).
test-pg: install-dev postgres
	TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m "not browser" $(XDIST)

test-browser: install-dev chromium
	$(BIN)/python -m pytest -m browser $(XDIST)

# Schemathesis against a throw-away server and database: every operation of the API's own
# OpenAPI document, as a viewer, an agent and an admin (tests/api_fuzz/run.py).
api-fuzz: install-dev
	$(BIN)/python tests/api_fuzz/run.py

# The apology check's role classifier: trained from letters_corpus/train (reproducible), and
# measured on letters_corpus/test, which nothing is tuned on.
check-train: install-dev
	$(BIN)/python -m incidents.apology.train

check-eval: install-dev
	$(BIN)/python -m incidents.apology.evaluate

lint: install-dev
	$(BIN)/ruff check .

bench: install-dev wrk
	$(BIN)/python bench/run.py

translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k wtforms_message:1,2 --ignore-dirs '.* __*' -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d translations

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; echo "PostgreSQL did not start"; exit 1

# Debian's Chromium, driven by Playwright's Python client; never a downloaded browser.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)

wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
