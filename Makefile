PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-postgres check format bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded SQLite default: migrate, then serve HTTP (/healthz) and the scheduler.
run: $(STAMP)
	$(BIN)/coachbot db upgrade
	$(BIN)/coachbot serve

# Storage tests also run on PostgreSQL when TEST_DATABASE_URL is set (CI sets it).
test: $(STAMP)
	$(BIN)/python -m pytest -q

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -q

# Lint, formatting and types (ruff, mypy: --strict flags on booking/); CI runs this before the tests.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

# The Telegram texts' catalogs: extract what the code marks (_ / N_) and add it, untranslated, to each language.
LOCALES := conversations/telegram/locales
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --omit-header --sort-output -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --omit-header --width 100 --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis var *.egg-info
