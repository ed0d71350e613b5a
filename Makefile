# OKR Hub. `make demo` runs the whole product with sandboxes; `make test` runs the test suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo run test lint format bench migrate clean screenshots

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

run: install migrate ## web + worker + beat (honcho + Procfile), for real vendors
	$(VENV)/bin/honcho start -f Procfile

test: install ## the whole test suite (uses DATABASE_URL when set; CI=true forbids skips)
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)
	$(VENV)/bin/pytest -m slow $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check + mypy on connectors/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy connectors

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

screenshots: install ## browser tests; screenshots of every page land in tests/artifacts/
	$(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

bench: install ## benchmarks; writes docs/benchmarks.md
	$(PY) -m bench all $(BENCH_ARGS)

clean:
	rm -rf var/broker var/*.sqlite3* var/staticfiles
