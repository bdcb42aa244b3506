# Validation of config.yaml and data/raw/ before any rule runs, and input helpers.
#
# The workflow runs one job per condition for effect sizes, pooling, sensitivity analyses
# and figures (wildcard {condition}, constrained to the validated condition names), and small
# gather jobs for the combined tables and the report (README, "Jobs and incremental reruns").
import os
import re
import sys

# Only light modules at parse time (paid by every start, a no-op rerun included): the
# statistics stack (scipy) is imported only when tables are validated.
from metareview.config import check_config_columns, load_config
from metareview.jobs import (
    SENSITIVITY_TABLES,
    source_digests,
    stale_figure_manifests,
    unwritable_folders,
)
from metareview.validation import InputError
from metareview.validation_cache import cross_file_checks, validate_inputs

#: SHA-256 prefixes of the package's parts; rules pass what they run as a params value, so
#: a code change reruns exactly the rules that use the changed part.
CODE = source_digests()

# Every raw table is validated before any rule runs; tables unchanged since they last
# validated (same size and mtime, config and code) are not read again.
try:
    _validated = load_config("config.yaml", overrides=dict(config))
    config.clear()
    config.update(_validated)

    # With data/raw/analyses.csv or risk_of_bias.csv, an edited outcomes table revalidates
    # every table (both are checked against all outcomes).
    CONDITIONS = validate_inputs(
        ".",
        config,
        CODE["core"],
        cross_checks=lambda raw: cross_file_checks(".", config, raw),
        partial=not any(
            os.path.exists(f"data/raw/{name}.csv")
            for name in ("analyses", "risk_of_bias")
        ),
    )
except InputError as error:
    sys.exit(str(error))
_unwritable = unwritable_folders(".")
if _unwritable:
    sys.exit(_unwritable)

CODE_CORE = CODE["core"]
CODE_PLOTS = f"{CODE['core']}-{CODE['plots']}"
CODE_REPORT = f"{CODE['core']}-{CODE['plots']}-{CODE['report']}"
#: Per-condition files and folders: the condition's effect sizes, pooled rows, sensitivity
#: tables (<table>.csv), GOSH subsets, three-level/rare-event tables and figures, and the
#: list of its figures. A folder is one directory() output: fewer files in the DAG make every
#: start faster at scale (README, "Scale").
CONDITION_EFFECTS = "data/processed/conditions/{condition}/effect_sizes.csv"
CONDITION_POOLED = "results/conditions/{condition}/pooled.csv"
FIGURE_MANIFEST = "results/conditions/{condition}/figures.sha256"
#: The folder of a condition's figures (a directory() output of its plot_condition job).
CONDITION_FIGURES = "results/figures/{condition}"
CONDITION_SENSITIVITY = "results/conditions/{condition}/sensitivity"
CONDITION_GOSH = "results/conditions/{condition}/gosh.csv"
CONDITION_REPEATED = "results/conditions/{condition}/repeated"


# {condition} matches a slug (the validated names' form; an unknown slug finds no
# data/raw/outcomes/<slug>.csv, so Snakemake reports it as missing input). Not an alternation
# of every condition: Snakemake compiles each output pattern many times while building the
# DAG, and a 100-name alternation in every pattern made a no-op start take seconds.
wildcard_constraints:
    condition="[a-z0-9][a-z0-9_-]*",


# A figure deleted or edited by hand marks its condition's manifest out of date, so the
# next run redraws that condition's figures (one stat per figure; see metareview.jobs).
stale_figure_manifests([FIGURE_MANIFEST.format(condition=c) for c in CONDITIONS])


def per_condition(pattern):
    """``pattern`` expanded over the analysed conditions, in sorted order."""
    return [pattern.format(condition=c) for c in CONDITIONS]


def sensitivity_outputs(directory):
    """{table: "<directory>/<table>.csv"} for every sensitivity table."""
    return {name: f"{directory}/{name}.csv" for name in SENSITIVITY_TABLES}


def raw_outcome_files(wildcards=None):
    """The condition tables this run analyses."""
    return per_condition("data/raw/outcomes/{condition}.csv")


CERTAINTY_INPUTS = [
    "data/raw/risk_of_bias.csv",
    "data/raw/prisma.yaml",
    "data/raw/analyses.csv",
]


def raw_input_files(wildcards=None):
    """Every raw input and the config, for provenance checksums."""
    files = ["data/raw/studies.csv", *raw_outcome_files()]
    optional_inputs = CERTAINTY_INPUTS + [
        f"data/raw/{name}" for name in ("reviews.csv", "reference_results.csv")
    ]
    for optional in optional_inputs:
        if Path(optional).exists():
            files.append(optional)
    if Path("config.yaml").exists():
        files.append("config.yaml")
    return files
