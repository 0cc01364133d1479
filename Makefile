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
# Azurite, the Azure Blob emulator of the storage tests (tests/helpers/storage.py). Pinned: 3.35 is
# the last line that runs on Node 20 (3.37 needs Node 22).
AZURITE_VERSION := 3.35.0
AZURITE := $(TOOLS)/azurite/.installed-$(AZURITE_VERSION)

.PHONY: help demo test bench bench-scale lint clean

# The machinery package, built from ops/ for the tests and the demo: generated projects pin
# mlops-gitops==<version>, and uv finds this wheel through UV_FIND_LINKS, never on the index.
OPS_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' ops/pyproject.toml)
WHEELS := $(CURDIR)/.cache/wheels
OPS_WHEEL := $(WHEELS)/mlops_gitops-$(OPS_VERSION)-py3-none-any.whl
OPS_SOURCES := ops/pyproject.toml ops/README.md $(shell find ops/src -type f -not -path '*/__pycache__/*')

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

$(OPS_WHEEL): $(UV) $(OPS_SOURCES)
	rm -rf $(WHEELS)
	$(UV) build -q --wheel --out-dir $(WHEELS) ops
	@# The name and version stay the same across changes: drop uv's cached copy of the old build.
	$(UV) cache clean -q mlops-gitops

demo: .venv/.synced $(OPS_WHEEL) ## Generate a project with default answers and run its whole loop locally
	UV_FIND_LINKS=$(WHEELS) $(UV) run --no-sync python scripts/demo.py "$(DEMO_DIR)"

# Two workers, each taking whole test files (module fixtures such as the renders of
# test_project.py stay in one process); PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= 2

test: .venv/.synced $(AZURITE) $(OPS_WHEEL) ## Run the template's test suite (and the package's own)
	UV_FIND_LINKS=$(WHEELS) $(UV) run --no-sync pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: .venv/.synced ## Print the benchmark figures (not a test)
	$(UV) run --no-sync python scripts/bench.py

# The pipeline's time and memory per stage on synthetic rows (not a test); BEFORE=<git ref> also
# measures the template at that commit, size by size, for a before/after table.
ROWS ?= 100000 1000000
BEFORE ?=
bench-scale: .venv/.synced $(OPS_WHEEL) ## Print the pipeline's scaling: 100k and 1M rows (ROWS=, BEFORE=<git ref>)
	UV_FIND_LINKS=$(WHEELS) $(UV) run --no-sync python scripts/bench_scale.py $(if $(BEFORE),--before $(BEFORE)) $(ROWS)

lint: .venv/.synced ## Lint the template's own code
	$(UV) run --no-sync ruff check hooks tests scripts ops
	$(UV) run --no-sync ruff format --check hooks tests scripts ops

clean: ## Remove installed tools, caches and the demo project
	rm -rf $(TOOLS) .venv .cache "$(DEMO_DIR)"

# --- Release of the machinery package (ops/, distribution mlops-gitops) -------------------------
# .github/workflows/release.yml runs these on a tag v<version>; docs/packaging.md explains them.
# Their uv: the pinned one in .tools when installed, else the one on PATH (the release workflow's
# setup-uv, pinned to the same UV_VERSION), else the pinned one, installed first.
RELEASE_UV := $(or $(wildcard $(UV)),$(shell command -v uv 2>/dev/null),$(UV))
package publish: UV = $(RELEASE_UV)

.PHONY: package publish

package: | $(RELEASE_UV) ## Build ops/ (sdist + wheel) into ops/dist; on a tag v*, the tag must be v<version>
	@version=$$(sed -n 's/^version = "\(.*\)"$$/\1/p' ops/pyproject.toml); \
	[ -n "$$version" ] || { echo "make package: no version line in ops/pyproject.toml" >&2; exit 1; }; \
	case "$${GITHUB_REF_NAME:-}" in \
	  v*) if [ "$$GITHUB_REF_NAME" != "v$$version" ]; then \
	        echo "make package: tag $$GITHUB_REF_NAME does not match version $$version in ops/pyproject.toml (expected tag v$$version)" >&2; \
	        exit 1; \
	      fi ;; \
	esac
	rm -rf ops/dist
	$(UV) build --out-dir ops/dist ops

publish: | $(RELEASE_UV) ## Upload ops/dist to PyPI through trusted publishing (the release workflow)
	$(UV) publish --trusted-publishing always ops/dist/*
