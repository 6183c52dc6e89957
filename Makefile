# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the pipeline on the bundled demo reads
#   make test   - set up, then run the whole test suite
# Set-up is idempotent: a local virtual environment (.venv) with the package installed, and Nextflow.

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.virnucpro-installed

.PHONY: setup venv nextflow demo test test-all browser slurm lint format clean

setup: venv nextflow

# A `nextflow` on PATH is used as it is; otherwise the runtime is fetched once from Maven Central into
# tools/nextflow/lib (see docs/pipeline.md). Tasks find the venv's python3 through PATH.
NEXTFLOW = $(shell bash tools/nextflow/setup.sh 2>/dev/null || echo tools/nextflow/nextflow)
nextflow:
	@bash tools/nextflow/setup.sh >/dev/null || { test -z "$${CI:-}" && \
		echo "warning: no Nextflow (needs Java 17+ and Maven, or nextflow on PATH); pipeline tests will be skipped" >&2; }

venv: $(STAMP)

$(STAMP): python/pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e 'python[dev]'
	touch $(STAMP)

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(NEXTFLOW) run . -profile test --outdir results/demo \
		--checkpoint_dir results/demo/checkpoints -ansi-log false

# Two tiers, both in CI: the default suite, then the tests that guard data but take minutes each (second_tier:
# 43 min on the shared 2-core machine at load average 15-25, see docs/pipeline.md).
test: setup browser slurm
	$(VPY) -m pytest
	$(VPY) -m pytest -m "second_tier and not gpu"

# The report's browser test needs Chromium (Debian's package); CI installs it, elsewhere the test is skipped.
browser:
	@if [ -n "$${CI:-}" ] && ! command -v chromium >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; fi

# The SLURM tests start a one-node cluster (tools/slurm/local-cluster.sh) from Debian's slurm-wlm and munge;
# CI installs them, elsewhere the tests are skipped without them.
slurm:
	@if [ -n "$${CI:-}" ] && [ "$$(id -u)" = 0 ] && ! command -v slurmctld >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; fi

test-all: setup browser slurm
	$(VPY) -m pytest -m "" 

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .

clean:
	rm -rf results work .nextflow* .pytest_cache
