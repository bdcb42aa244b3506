# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: setup run test test-unit fuzz lint format bench bench-scale slurm-setup slurm-test check-report clean publish

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

## Run the bundled review from data/raw/ to results/.
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --rerun-incomplete

## Unit, property, reference and end-to-end tests (no R needed), on CORES processes
## (pytest-xdist; one file per process, so a module's fixtures are built once).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(CORES) --dist loadfile

## Whole-review property test on thousands of generated reviews (hours; run before a release).
## FUZZ_EXAMPLES=n for fewer; FUZZ_SIZE=small|medium|large (default large); split over CORES
## processes; one line per passed example in fuzz.log; FUZZ_SHRINK=1 to shrink a failure.
## A failing shard writes fuzz.log.failed and the other shards stop at their next example.
fuzz: $(STAMP)
	rm -f $${FUZZ_LOG:-fuzz.log}.failed
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} FUZZ_RANDOM=1 FUZZ_SIZE=$${FUZZ_SIZE:-large} \
		FUZZ_SHARDS=$(CORES) FUZZ_LOG=$${FUZZ_LOG:-fuzz.log} \
		$(BIN)/python -m pytest -q -x -p no:cacheprovider -n $(CORES) \
		tests/unit/test_whole_review_fuzz.py -k every_generated_review

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration"

lint: $(STAMP)
	$(BIN)/ruff check src workflow tests benchmarks tools
	$(BIN)/ruff format --check src workflow tests benchmarks tools
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff check --fix src workflow tests benchmarks tools
	$(BIN)/ruff format src workflow tests benchmarks tools
	$(BIN)/snakefmt Snakefile workflow/rules

## Speed and memory targets (not part of `make test`).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pooling.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_validation.py

## Cold, no-op and one-condition-edit run times of SYNTHETIC reviews (10, 100, 300 conditions).
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --cores $(CORES)

## A second venv with the Slurm executor plugin (requirements-slurm.lock; kept out of .venv).
slurm-setup: .venv-slurm/.installed

.venv-slurm/.installed: requirements.lock requirements-slurm.lock pyproject.toml
	$(PYTHON) -m venv .venv-slurm
	.venv-slurm/bin/python -m pip install --quiet --upgrade pip
	.venv-slurm/bin/python -m pip install --quiet --no-deps -r requirements.lock -r requirements-slurm.lock
	.venv-slurm/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	.venv-slurm/bin/python -m pip check
	touch $@

## The bundled review through a real single-node Slurm cluster (root; not part of `make test`).
slurm-test: slurm-setup
	METAREVIEW_BIN=$(CURDIR)/.venv-slurm/bin tools/slurm_test.sh

## Screenshot results/report.html in headless Chromium (installs chromium if missing).
check-report: $(STAMP)
	tools/check_report.sh

## Regenerate the bundled review's published results (results/pooled.csv, report.md, MANIFEST).
publish: $(STAMP)
	$(BIN)/python tools/published.py update

## Regenerate the metafor reference fixtures (needs R with metafor).
fixtures:
	Rscript tests/reference/make_fixtures.R

clean:
	rm -rf results/* data/processed/* logs .snakemake
	touch results/.gitkeep data/processed/.gitkeep
