# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the pipeline on the bundled demo reads
#   make test   - set up, then run the whole test suite
# Set-up is idempotent: a local virtual environment (.venv) with the package installed, and Nextflow.

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.virnucpro-installed

.PHONY: setup venv demo test test-all browser lint format clean

setup: venv

venv: $(STAMP)

$(STAMP): python/pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e 'python[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/virnucpro translate assets/demo/reads.fa --chunk-length 300 --outdir results/demo

test: setup browser
	$(VPY) -m pytest

# The report's browser test needs Chromium (Debian's package); CI installs it, elsewhere the test is skipped.
browser:
	@if [ -n "$${CI:-}" ] && ! command -v chromium >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; fi

test-all: setup
	$(VPY) -m pytest -m "" 

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .

clean:
	rm -rf results work .nextflow* .pytest_cache
