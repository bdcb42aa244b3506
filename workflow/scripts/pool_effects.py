"""Entry point of rule pool_condition: one condition's effect sizes → its pooled.csv rows."""

import logging


def main(smk) -> None:
    from metareview.analyses import pool_analyses
    from metareview.analysis_settings import read_analyses
    from metareview.io import read_table
    from metareview.outputs import write_csv

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = pool_analyses(
        effects,
        tau2_method=smk.params.tau2_method,
        ci_method=smk.params.ci_method,
        level=smk.params.level,
        convergence=smk.params.convergence,
        settings=read_analyses("."),
        conventions=smk.params.conventions,
    )
    logging.info("%d analyses pooled", len(pooled))
    write_csv(pooled, smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
