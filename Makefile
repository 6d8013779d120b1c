# The front door. Every target sets up what it needs from nothing (virtual environments included).
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
# pyenv's shim (or any python3.13 on PATH) provides the Lambda runtime's Python.
BOOTSTRAP_PYTHON ?= python$(PYTHON_VERSION)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
# samconfig.toml environment used by `make deploy`.
ENV ?= dev

.DEFAULT_GOAL := help
.PHONY: help venv demo invoke test lint typecheck validate build deploy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt layer/requirements.txt
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Create the project's virtual environment (the Python of .python-version)

# The SAM CLI pins boto3 and friends exactly, so it lives in its own environment.
$(SAM_VENV)/.installed:
	$(BOOTSTRAP_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# ---------------------------------------------------------------- run it

demo: $(VENV)/.installed ## The twelve operations against loopback Bedrock and PostHog, then the analytics summary
	$(PY) scripts/demo.py

invoke: $(VENV)/.installed ## One handler, in-process as Lambda runs it: make invoke FN=generateCv [EVENT=file]
	@test -n "$(FN)" || { echo "usage: make invoke FN=<operation, e.g. generateCv> [EVENT=events/<file>.json]" >&2; exit 2; }
	$(PY) scripts/invoke.py $(FN) $(if $(EVENT),--event $(EVENT))

# ---------------------------------------------------------------- check it

test: lint typecheck validate ## Lint, type-check, validate the template and run every test
	$(PY) -m pytest

lint: $(VENV)/.installed ## ruff over the whole tree
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy (strict) over the layers, the functions and the stand-ins
	$(VENV)/bin/mypy

validate: $(VENV)/.installed $(SAM_VENV)/.installed ## Lint template.yaml with cfn-lint and sam validate --lint (offline)
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region eu-west-1

# ---------------------------------------------------------------- ship it

# No container. The layers' Makefiles pip-install arm64 wheels and compile bytecode with this Python 3.13.
build: $(SAM_VENV)/.installed ## sam build: the twelve functions and both layers into .aws-sam/build
	PYTHON=$(abspath $(SAM_VENV)/bin/python) $(SAM) build

deploy: build ## sam deploy with samconfig.toml's ENV (dev by default); needs AWS credentials
	$(SAM) deploy --config-env $(ENV)

clean: ## Remove build output and the demo's files (keeps the virtual environments)
	rm -rf .aws-sam out

# ---------------------------------------------------------------- benchmarks (bench/)
.PHONY: bench

bench: $(VENV)/.installed ## Run the benchmarks (figures, not tests; ~4 min): bench/results/*.json
	$(PY) bench/run_all.py
