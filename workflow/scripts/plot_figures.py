"""Entry point of rule plot_figures: tables → results/figures/*.svg (byte-reproducible)."""

import logging
from pathlib import Path

from metareview.io import read_table
from metareview.plots.build import figures
from metareview.plots.export import save_svg
from metareview.plots.gosh_figures import gosh_figures
from metareview.plots.multilevel_course import multilevel_figures
from metareview.report.context import SENSITIVITY_TABLES
from metareview.review_labels import use_labels


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    sensitivity = {name: read_table(smk.input.get(name)) for name in SENSITIVITY_TABLES}
    out = Path(smk.output[0])
    out.mkdir(parents=True, exist_ok=True)
    rob = read_table(smk.input.get("risk_of_bias"))
    with use_labels(smk.params.get("review")):
        plots = figures(effects, pooled, studies, sensitivity, smk.params.conditions, rob)
        for name, plot in plots:
            save_svg(plot, out / name)
            logging.info("wrote %s", out / name)
        course = read_table(smk.input.get("multilevel_timecourse"))
        for name, plot in multilevel_figures(effects, course):
            save_svg(plot, out / name)
            logging.info("wrote %s", out / name)
        for name, plot in gosh_figures(read_table(smk.input.get("gosh")), pooled):
            save_svg(plot, out / name)
            logging.info("wrote %s", out / name)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
