"""Entry point of rule assess_certainty: GRADE, Summary of Findings, per-analysis RoB table."""

import logging

from metareview.certainty.grade import GradeSettings
from metareview.certainty.overrides import load_overrides
from metareview.certainty.risk_of_bias import analysis_table, judgements, load_risk_of_bias
from metareview.certainty.summary_of_findings import summary_of_findings
from metareview.io import read_table
from metareview.outputs import write_csv


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    small = read_table(smk.input.small_study)
    rob = load_risk_of_bias(".", studies["study_id"])
    sof = summary_of_findings(
        effects,
        pooled,
        studies,
        rob,
        small,
        GradeSettings.from_config(smk.params.grade),
        load_overrides("."),
    )
    write_csv(sof, smk.output.summary_of_findings)
    write_csv(analysis_table(effects, pooled, judgements(rob, studies)), smk.output.risk_of_bias)
    logging.info("summary of findings: %d analyses", len(sof))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
