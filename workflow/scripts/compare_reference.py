"""Entry point of rule compare_reference: pooled.csv + reference_results.csv → comparison."""

import logging

from metareview.io import read_table
from metareview.outputs import write_csv
from metareview.report.reference_comparison import compare, read_reference


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    table = compare(read_table(smk.input.pooled), read_reference(smk.input.reference))
    logging.info("%d numbers compared", len(table))
    write_csv(table, smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
