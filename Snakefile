# Ketamine for chronic pain: a meta-analysis per condition.
# This file only wires; the statistics live in src/metareview/ (see README.md).
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# config.yaml is read (safely: no YAML aliases, no duplicate keys) and validated in
# workflow/rules/common.smk; --config values given on the command line override it.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/effect_sizes.smk"
include: "workflow/rules/pool.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/gosh.smk"
include: "workflow/rules/repeated.smk"
include: "workflow/rules/certainty.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/reference.smk"


rule all:
    default_target: True
    input:
        "data/processed/effect_sizes.csv",
        "results/pooled.csv",
        "results/provenance.json",
        rules.gather_sensitivity.output,
        "results/gosh.csv",
        rules.analyse_repeated.output,
        rules.assess_certainty.output,
        "results/report.html",
        "results/report.md",
        branch(
            exists("data/raw/reference_results.csv"),
            then="results/reference_comparison.csv",
        ),
