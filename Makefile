# Routine commands. Everything installs into ./.venv with the pinned versions.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
AS_OF  ?= 2026-11-01
POLICY ?= lustmonster

.PHONY: demo test install install-dev sample lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: install, generate the sample export, run every check of $(POLICY), write reports/
demo: install
	$(BIN)/pledgecheck demo --policy $(POLICY) --as-of $(AS_OF)

## test: install with test dependencies and run the whole test suite, then execute every notebook
## on the sample with nbval, as an analyst would run them (what CI runs)
test: install-dev
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax notebooks/

lint: install
	$(BIN)/pledgecheck lint

clean:
	rm -rf $(VENV) reports build *.egg-info pipelines/*.egg-info
