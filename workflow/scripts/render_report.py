"""Entry point of rule render_report: tables + figures → results/report.html and report.md."""

import json
import logging
from pathlib import Path

import pandas as pd

from metareview.certainty.prisma import load_prisma
from metareview.report import ReportInputs, build_context, render_html, render_markdown
from metareview.report.certainty import add_certainty
from metareview.report.context import SENSITIVITY_TABLES, read_optional_csv


def write_text(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8", newline="\n")


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    figures_dir = Path(smk.input.figures)
    inputs = ReportInputs(
        effects=pd.read_csv(smk.input.effects),
        pooled=pd.read_csv(smk.input.pooled),
        studies=pd.read_csv(smk.input.studies),
        reviews=read_optional_csv(smk.input.get("reviews")),
        sensitivity={name: read_optional_csv(smk.input.get(name)) for name in SENSITIVITY_TABLES},
        provenance=json.loads(Path(smk.input.provenance).read_text(encoding="utf-8")),
        params=dict(smk.params.items()),
        figures={p.name for p in figures_dir.glob("*.svg")},
    )
    context = build_context(inputs)
    if smk.input.get("summary_of_findings"):
        add_certainty(
            context,
            pd.read_csv(smk.input.summary_of_findings),
            pd.read_csv(smk.input.risk_of_bias, dtype={"outcome": str}, keep_default_na=False),
            load_prisma(".", len(inputs.studies)),
            smk.input.certainty_figures,
            has_rob_file=Path("data/raw/risk_of_bias.csv").exists(),
        )
    write_text(smk.output.html, render_html(context, figures_dir))
    write_text(smk.output.md, render_markdown(context))
    logging.info("report with %d conditions", len(context["conditions"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
