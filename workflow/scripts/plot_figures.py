"""Entry point of rule plot_figures: tables → results/figures/*.svg (byte-reproducible)."""

import logging
from pathlib import Path

import pandas as pd

from metareview.plots.build import figures
from metareview.plots.export import save_svg
from metareview.plots.gosh_figures import gosh_figures
from metareview.report.context import SENSITIVITY_TABLES, read_optional_csv


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = pd.read_csv(smk.input.effects)
    pooled = pd.read_csv(smk.input.pooled)
    studies = pd.read_csv(smk.input.studies)
    sensitivity = {name: read_optional_csv(smk.input.get(name)) for name in SENSITIVITY_TABLES}
    out = Path(smk.output[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, plot in figures(effects, pooled, studies, sensitivity, smk.params.conditions):
        save_svg(plot, out / name)
        logging.info("wrote %s", out / name)
    for name, plot in gosh_figures(read_optional_csv(smk.input.get("gosh")), pooled):
        save_svg(plot, out / name)
        logging.info("wrote %s", out / name)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
