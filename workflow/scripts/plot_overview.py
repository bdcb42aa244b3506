"""Entry point of rule plot_overview: combined tables → results/figures/overview.svg."""

import logging


def main(smk) -> None:
    from metareview.io import read_table
    from metareview.plots.build import overview_figure
    from metareview.plots.export import save_svg
    from metareview.review_labels import use_labels

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    with use_labels(smk.params.get("review")):
        _, plot = overview_figure(
            effects, pooled, studies, smk.params.conditions, level=smk.params.level
        )
        save_svg(plot, smk.output[0])
    logging.info("wrote %s", smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
