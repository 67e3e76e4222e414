# Coop: `make run` serves the demo, `make test` runs the suite. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench lint install translations screenshots

install: $(STAMP)

# Reinstall only when the package metadata changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile -d coop/translations --statistics >/dev/null
	touch $(STAMP)

# The demo's statements carry a made-up identity, unless the environment gives the coop's own.
run: export COOP_NAME ?= Coop Démo SCOP SARL (demo)
run: export COOP_REGISTRATION ?= RCS Paris 000 000 000 (demo, not registered)
run: export COOP_ADDRESS ?= 1 rue de l'Exemple, 75011 Paris
run: install
	$(BIN)/coop init
	$(BIN)/coop demo --if-empty
	@echo "Serving on http://127.0.0.1:5000 with a job worker beside it (Ctrl-C stops both)"
	@$(BIN)/coop worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/coop serve --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pybabel compile -d coop/translations >/dev/null
	$(BIN)/pytest -n 2 --dist loadfile

bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/results.py
	$(BIN)/python bench/board.py
	$(BIN)/python bench/statements.py
	$(BIN)/python bench/statements_draft.py
	$(BIN)/python bench/projects.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/quality.py

lint: install
	$(BIN)/ruff check .

# Pictures of each role's main page for the guides, taken from a throwaway demo instance.
screenshots: install
	$(BIN)/pybabel compile -d coop/translations >/dev/null
	$(BIN)/coop screenshots docs/screenshots

# Refresh the message catalogue after changing user-facing strings.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coop/translations/messages.pot .
	$(BIN)/pybabel update -i coop/translations/messages.pot -d coop/translations
	$(BIN)/pybabel compile -d coop/translations
