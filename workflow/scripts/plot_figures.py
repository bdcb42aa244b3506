"""Entry point of rule plot_condition: one condition's tables → its figures (SVG,
byte-reproducible) in results/figures/, listed with their SHA-256 in the job's manifest."""

import logging
from itertools import chain
from pathlib import Path


def main(smk) -> None:
    from metareview.io import read_table
    from metareview.jobs import write_figure_manifest
    from metareview.plots.build import analysis_figures
    from metareview.plots.export import save_svg
    from metareview.plots.gosh_figures import gosh_figures
    from metareview.plots.multilevel_course import multilevel_figures
    from metareview.report.context import SENSITIVITY_TABLES
    from metareview.review_labels import use_labels
    from metareview.tables import rows_for

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    sensitivity = {name: read_table(smk.input.get(name)) for name in SENSITIVITY_TABLES}
    out = Path(smk.params.figures_dir)
    condition = {"condition": smk.wildcards.condition}
    rob = rows_for(read_table(smk.input.get("risk_of_bias")), condition)
    course = rows_for(read_table(smk.input.get("multilevel_timecourse")), condition)
    gosh = rows_for(read_table(smk.input.get("gosh")), condition)
    written = []
    with use_labels(smk.params.get("review")):
        # Build each plot just before saving it (plot construction is not free of global
        # state): a lazy chain, as the whole-review script drew them.
        plots = chain(
            analysis_figures(effects, pooled, studies, sensitivity, rob),
            multilevel_figures(effects, course),
            gosh_figures(gosh, pooled),
        )
        for name, plot in plots:
            written.append(save_svg(plot, out / name))
            logging.info("wrote %s", out / name)
    write_figure_manifest(smk.output[0], written)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
