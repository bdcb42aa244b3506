"""Entry point of rule sensitivity_condition: one condition's effect sizes + studies.csv →
its sensitivity tables (results/conditions/<condition>/sensitivity/<table>.csv)."""

import logging
from pathlib import Path


def main(smk) -> None:
    from metareview.certainty.risk_of_bias import load_risk_of_bias
    from metareview.io import read_table
    from metareview.outputs import write_csv
    from metareview.sensitivity import TABLES, run_sensitivity

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    studies = read_table(smk.input.studies)
    tables = run_sensitivity(
        effects,
        studies,
        tau2_method=smk.params.tau2_method,
        ci_method=smk.params.ci_method,
        level=smk.params.level,
        subgroups=list(smk.params.subgroups or []),
        moderators=list(smk.params.moderators or []),
        convergence=smk.params.convergence,
        permutations=smk.params.permutations,
        seed=smk.params.seed,
        risk_of_bias=load_risk_of_bias(".", studies["study_id"].astype(str)),
    )
    folder = Path(smk.output.tables)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        write_csv(tables[name], folder / f"{name}.csv")
        logging.info("%s: %d rows", name, len(tables[name]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
