# The front door. Every target sets up what it needs from nothing.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
# pyenv's shim (or any python3.13 on PATH) provides the Lambda runtime's Python.
BOOTSTRAP_PYTHON ?= python$(PYTHON_VERSION)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0

.DEFAULT_GOAL := help
.PHONY: help test lint typecheck unit integration drills infra

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt layer/requirements.txt
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Create the project's virtual environment (Python $(PYTHON_VERSION))

# The SAM CLI pins boto3 and friends exactly, so it lives in its own environment.
$(SAM_VENV)/.installed:
	$(BOOTSTRAP_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

test: lint typecheck ## Lint, type-check and run every test (sets everything up from nothing)
	$(PY) -m pytest

lint: $(VENV)/.installed ## ruff over the whole tree
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy (strict) over the layers
	$(VENV)/bin/mypy

# ---------------------------------------------------------------- infrastructure (template.yaml)
.PHONY: validate build

validate: $(VENV)/.installed $(SAM_VENV)/.installed ## Lint template.yaml with cfn-lint and sam validate --lint (offline)
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region eu-west-1

# No container: SAM installs the layers' arm64 wheels with the python3.13 that .python-version selects.
build: $(SAM_VENV)/.installed ## sam build: the twelve functions and both layers into .aws-sam/build
	$(SAM) build
