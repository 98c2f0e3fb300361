# trialreport: two commands do all set-up on a fresh machine with Python 3.11+:
#   make report   -> validated data, analyses, the rendered CSR in report/
#   make test     -> ruff + the test suite
# Both create or refresh .venv from requirements.lock (exact versions, derived from pyproject.toml).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-lock
ENGINE ?=

.PHONY: report test test-fast venv lock data validate ard bundle verify bench lint clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

report: venv
	$(BIN)/trialreport render $(if $(ENGINE),--engine $(ENGINE))

# Everything, slow tests included, within 5 minutes on 2 cores: the book is rendered once per
# session (tests/conftest.py, in a temporary copy) and shared. The browser check must run here.
test: venv
	@bash tools/install-chromium.sh
	$(BIN)/ruff check src tests tools bench
	TRIALREPORT_REQUIRE_BROWSER=1 $(BIN)/pytest --durations=15

# The quick loop while developing: no render, no browser, no virtual environments.
test-fast: venv
	$(BIN)/pytest -m "not render and not slow and not browser"

validate: venv
	$(BIN)/trialreport validate

ard: venv
	$(BIN)/trialreport ard --out report/ard.json

bundle: venv
	$(BIN)/trialreport bundle

verify: venv
	$(BIN)/trialreport verify report/*-supplement.zip

bench: venv
	$(BIN)/python bench/run.py

data: venv
	$(BIN)/trialreport make-data

lint: venv
	$(BIN)/ruff check src tests tools bench

# Re-derive requirements.lock and environment.yml from pyproject.toml in a clean environment.
lock:
	rm -rf build/lockenv
	$(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --disable-pip-version-check '.[test]'
	build/lockenv/bin/python -m pip freeze --exclude-editable --all \
	  | grep -viE '^(trialreport|pip|setuptools|wheel)( @|==)' > requirements.lock
	$(PYTHON) tools/write_environment_yml.py requirements.lock environment.yml
	rm -rf build/lockenv

clean:
	rm -rf .cache build report/*.html report/*.docx report/*.pdf report/ard.json
