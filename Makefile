# The template's two contract commands: `make demo` and `make test`. Both install what they
# need on a fresh machine that has python3, git and make; after that, everything runs offline.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
export PATH := $(TOOLS)/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/mlops-gitops-demo
PYTEST_ARGS ?=
# Azurite, the Azure Blob emulator of the storage tests (tests/helpers_storage.py). Pinned: 3.35 is
# the last line that runs on Node 20 (3.37 needs Node 22).
AZURITE_VERSION := 3.35.0
AZURITE := $(TOOLS)/azurite/.installed-$(AZURITE_VERSION)

.PHONY: help demo test bench lint clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked -q
	@touch $@

$(AZURITE):
	rm -rf $(TOOLS)/azurite
	npm install --prefix $(TOOLS)/azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	@touch $@

demo: .venv/.synced ## Generate a project with default answers and run its whole loop locally
	$(UV) run --no-sync python scripts/demo.py "$(DEMO_DIR)"

# Two workers, each taking whole test files (module fixtures such as the renders of
# test_project.py stay in one process); PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= 2

test: .venv/.synced $(AZURITE) ## Run the template's test suite
	$(UV) run --no-sync pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: .venv/.synced ## Print the benchmark figures (not a test)
	$(UV) run --no-sync python scripts/bench.py

lint: .venv/.synced ## Lint the template's own code
	$(UV) run --no-sync ruff check hooks tests scripts
	$(UV) run --no-sync ruff format --check hooks tests scripts

clean: ## Remove installed tools, caches and the demo project
	rm -rf $(TOOLS) .venv .cache "$(DEMO_DIR)"
