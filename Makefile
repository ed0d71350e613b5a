# OKR Hub. `make demo` runs the whole product with sandboxes; `make test` runs the test suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo demo-sso run test test-clock lint format bench bench-quick migrate clean screenshots

$(VENV)/.installed: requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $@

install: $(VENV)/.installed ## create .venv and install the locked dependencies

migrate: install
	$(PY) manage.py migrate --noinput

demo: install ## the whole product with sandboxes, on the embedded defaults (SQLite, filesystem broker)
	$(PY) -m dashboard.demo

demo-sso: install ## make demo, plus single sign-on through the tests' OpenID provider on 127.0.0.1:8110
	OKRHUB_DEMO_SSO=1 $(PY) -m dashboard.demo

run: install migrate ## web + worker + beat (honcho + Procfile), for real vendors
	$(VENV)/bin/honcho start -f Procfile

# Coverage of the test process and of every Python process the tests start (tests/_subprocess).
COVERAGE_DIR := $(CURDIR)/var/coverage
RESULTS_DIR := $(CURDIR)/var/test-results
COVERED := COVERAGE_PROCESS_START=$(CURDIR)/pyproject.toml COVERAGE_FILE=$(COVERAGE_DIR)/.coverage $(VENV)/bin/coverage run -m pytest
# What depends on "today" (sandbox data, staleness, overdue, pace): run again with the clock moved.
DATE_SENSITIVE ?= tests/core tests/connectors tests/integrations tests/okrs tests/writes tests/api tests/e2e tests/alignment tests/people tests/digest tests/audit

test: install ## the whole test suite with coverage (uses DATABASE_URL when set; CI=true forbids skips)
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR) $(RESULTS_DIR)
	$(COVERED) -m "not slow" --junitxml=$(RESULTS_DIR)/main.xml $(PYTEST_ARGS)
	$(COVERED) -m slow --junitxml=$(RESULTS_DIR)/slow.xml $(PYTEST_ARGS)
	$(PY) -m tests.coverage_report

test-clock: install ## the date-sensitive suites again with the tests' clock 60 days ahead (CI runs both)
	mkdir -p $(RESULTS_DIR)
	OKRHUB_TEST_CLOCK_SHIFT_DAYS=60 $(VENV)/bin/pytest -m "not slow" --junitxml=$(RESULTS_DIR)/clock-60-days.xml $(PYTEST_ARGS) $(DATE_SENSITIVE)

lint: install ## ruff check + ruff format --check + mypy (strict) on connectors/ and dashboard/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	OKRHUB_IGNORE_DOTENV=1 $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

screenshots: install ## browser tests; screenshots of every page land in tests/artifacts/
	$(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

bench: install ## benchmarks; writes docs/benchmarks.md
	$(PY) -m bench all $(BENCH_ARGS)

bench-quick: install ## the CI gate: sync ratios at size small against bench/baseline.json (about 2 minutes)
	$(PY) -m bench --quick

clean:
	rm -rf var/broker var/*.sqlite3* var/staticfiles
