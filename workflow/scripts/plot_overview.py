"""Entry point of rule plot_overview: combined tables → results/figures/overview.svg."""

import logging


def main(smk) -> None:
    import pandas as pd

    from metareview.plots.build import overview_figure
    from metareview.plots.export import save_svg

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = pd.read_csv(smk.input.effects)
    pooled = pd.read_csv(smk.input.pooled)
    studies = pd.read_csv(smk.input.studies)
    _, plot = overview_figure(effects, pooled, studies, smk.params.conditions)
    save_svg(plot, smk.output[0])
    logging.info("wrote %s", smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
