# The two commands a newcomer needs: `make run` and `make test`. Both create the
# virtualenv (.venv, Python 3.12 like the Lambda runtime) and install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.12 that actually runs (a pyenv shim may exist without a usable version).
PYTHON ?= $(shell for candidate in python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) /usr/local/bin/python3.12 /usr/bin/python3.12 python3; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo $$candidate; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
RUNTIME_VENV := .venv-runtime
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test lint typecheck template-check pytest build build-check invoke bench cost clean

help:
	@echo "make run      serve the whole service locally on http://127.0.0.1:3000 (Ctrl-C stops it)"
	@echo "make test     lint, type check, template check and the whole test suite"
	@echo "make build    sam build (the deployable artifacts in .aws-sam/build)"
	@echo "make invoke   FN=<logical id> EVENT=events/<file>.json against the running local stack"
	@echo "make bench    the benchmarks under bench/"
	@echo "make cost     what AWS bills per million messages, measured (bench/cost.py)"

$(BIN)/.installed: requirements-dev.txt layers/shared/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 (the Lambda runtime's version) is needed: install it or set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed: set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $@

# checkov pins its own boto3 and pydantic: a venv of its own, from requirements-checkov.txt.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed: set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

$(RUNTIME_VENV)/.installed: requirements-runtime.txt
	@test -x $(RUNTIME_VENV)/bin/python || $(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-runtime.txt
	@touch $@

# The local stack and the tests enforce each function's IAM policy from the template as SAM
# translates it: the translator lives in .venv-sam.
run: $(BIN)/.installed $(SAM_VENV)/.installed
	$(BIN)/python -m local

test: lint typecheck template-check pytest build-check

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy layers/shared/textstatus functions local tests bench

# cfn-lint, then the SAM transform itself (`sam validate` without --lint translates the template
# as CloudFormation will; with --lint it only lints). tests/integration/test_template.py translates
# every template variant and checks what comes out.
# checkov then reads the template for insecure settings: each finding is fixed or skipped in the
# resource's Metadata (checkov: skip) with its reason. Finally every variant of local/sam.py
# (default, both egress modes, both client-auth modes, WAF) goes through the SAM translator.
template-check: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(BIN)/.installed
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --region us-east-1 --template template.yaml
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --file template.yaml
	$(BIN)/python -m local.sam

pytest: $(BIN)/.installed $(SAM_VENV)/.installed
	$(BIN)/pytest

# sam build needs python3.12 on PATH: the project's virtualenv provides it.
build: $(SAM_VENV)/.installed $(BIN)/.installed
	PATH="$(abspath $(BIN)):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml
	@# Lambda cannot write bytecode (read-only code directories) and sam build ships the layer's
	@# dependencies without any: ship everything compiled (pydantic, Powertools and ours), checked
	@# by hash rather than by mtime (zip keeps mtimes only to 2 s), so no cold start compiles
	@# (about 300 ms of a cold request otherwise: `make bench`, "first request").
	$(BIN)/python -m compileall -q --invalidation-mode unchecked-hash .aws-sam/build/SharedLayer/python \
		.aws-sam/build/*Function
	@$(BIN)/python -m local.buildcheck

# The built functions, imported with only their folder, the built layer and boto3 (as on
# Lambda), each run with the samples in events/ against the local stack.
build-check: build $(RUNTIME_VENV)/.installed
	$(BIN)/python -m local.buildcheck --invoke

invoke: $(BIN)/.installed
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=StatusApiFunction EVENT=events/status_api/get_status.json"; exit 2; }
	$(BIN)/python -m local.invoke $(FN) $(EVENT)

# .venv-runtime: the first-request benchmark runs the built functions with boto3 alone, as Lambda does.
bench: build $(RUNTIME_VENV)/.installed
	$(BIN)/python -m bench $(BENCH)

# Not part of `make test`: drives each provider's life of a message through the handlers on moto
# and prices what AWS would bill (bench/prices.py). `make cost COST_ARGS="--messages 32"`.
cost: $(BIN)/.installed
	$(BIN)/python -m bench.cost $(COST_ARGS)

clean:
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
