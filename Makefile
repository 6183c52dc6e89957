# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the pipeline on the bundled demo reads
#   make test   - set up, then run the whole test suite
# Set-up is idempotent: a local virtual environment (.venv) with the package installed, and Nextflow.

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.virnucpro-installed

.PHONY: setup venv demo test test-all lint format clean

setup: venv

venv: $(STAMP)

$(STAMP): python/pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e 'python[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/virnucpro translate assets/demo/reads.fa --chunk-length 300 --outdir results/demo

test: setup
	$(VPY) -m pytest

test-all: setup
	$(VPY) -m pytest -m "" 

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .

clean:
	rm -rf results work .nextflow* .pytest_cache
