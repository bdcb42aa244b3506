"""Entry point of rule gosh: effect_sizes.csv → results/gosh.csv."""

import logging

from metareview.gosh_analyses import gosh_table
from metareview.io import read_table
from metareview.outputs import write_csv
from metareview.stats.options import FitOptions


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    options = FitOptions(tau2_method=smk.params.tau2_method, convergence=smk.params.convergence)
    table = gosh_table(effects, options, seed=smk.params.seed)
    write_csv(table, smk.output.gosh)
    logging.info("gosh: %d subsets", len(table))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
