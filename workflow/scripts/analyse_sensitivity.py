"""Entry point of rule sensitivity_condition: one condition's effect sizes + studies.csv →
its sensitivity tables (results/conditions/<condition>/<table>.csv)."""

import logging


def main(smk) -> None:
    from metareview.certainty.risk_of_bias import load_risk_of_bias
    from metareview.io import read_table
    from metareview.outputs import write_csv
    from metareview.sensitivity import run_sensitivity

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
    outputs = set(smk.output.keys())  # Snakemake's Namedlist: `in` alone tests the paths
    for name, table in tables.items():
        if name in outputs:
            write_csv(table, smk.output[name])
            logging.info("%s: %d rows", name, len(table))
        else:
            logging.info("%s: %d rows, not written (no output of that name)", name, len(table))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
