"""Entry point of rule plot_certainty: RoB and PRISMA figures → results/certainty_figures/."""

import logging
from pathlib import Path

from metareview.certainty.prisma import load_prisma
from metareview.io import read_table
from metareview.plots.certainty_figures import certainty_figures
from metareview.plots.export import save_svg


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    rob = read_table(smk.input.risk_of_bias)
    effects = read_table(smk.input.effects)
    studies = read_table(smk.input.studies)
    prisma = load_prisma(".", len(studies))
    out = Path(smk.output[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, figure in certainty_figures(rob, effects, prisma):
        if isinstance(figure, str):
            (out / name).write_text(figure, encoding="utf-8", newline="\n")
        else:
            save_svg(figure, out / name)
        logging.info("wrote %s", out / name)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
