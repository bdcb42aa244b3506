"""Entry point of rule render_report: tables + figures → results/report.html and report.md.

The figures shown are those listed in the per-condition manifests plus the overview. What
no rule makes any more is removed from results/figures/, as a regenerated folder would not
have it: the folder of a condition no longer analysed, and SVGs directly in the folder other
than the overview (figures were there before version 0.4.0).
"""

import json
import logging
import shutil
from pathlib import Path

#: Params that steer the workflow, not the report's content.
NOT_REPORTED = ("figures_dir", "code")


def write_text(path: str, text: str) -> None:
    from metareview.outputs import write_atomic

    write_atomic(path, text)


def listed_figures(smk, figures_dir: Path) -> dict[str, str]:
    """{file name: path under ``figures_dir``} of the overview and every manifest's figures."""
    from metareview.jobs import read_figure_manifest

    overview = Path(smk.input.overview)
    figures = {overview.name: overview.relative_to(figures_dir).as_posix()}
    for manifest in smk.input.figure_manifests:
        for _, path in read_figure_manifest(manifest):
            figures[Path(path).name] = Path(path).relative_to(figures_dir).as_posix()
    return figures


def remove_stale_figures(figures_dir: Path, figures: dict[str, str], conditions) -> None:
    """Remove what no rule makes any more (see the module docstring): folders other than
    those of ``conditions``, and loose SVGs other than the overview."""
    kept = set(figures.values())
    folders = set(conditions)
    for stale in sorted(figures_dir.iterdir()):
        if stale.is_dir() and stale.name not in folders:
            shutil.rmtree(stale)
        elif stale.suffix == ".svg" and stale.name not in kept:
            stale.unlink()
        else:
            continue
        logging.info("removed %s (no longer made by any analysis)", stale)


def main(smk) -> None:
    from metareview.certainty.prisma import load_prisma
    from metareview.io import read_table
    from metareview.report import ReportInputs, build_context, render_html, render_markdown
    from metareview.report.analysis_methods import analysis_methods
    from metareview.report.certainty import add_certainty
    from metareview.report.context import SENSITIVITY_TABLES
    from metareview.report.reference_comparison import agreement_section
    from metareview.report.repeated import REPEATED_TABLES
    from metareview.review_labels import use_labels

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    figures_dir = Path(smk.params.figures_dir)
    figures = listed_figures(smk, figures_dir)
    # Each condition's manifest is results/conditions/<condition>/figures.sha256.
    analysed = [Path(manifest).parent.name for manifest in smk.input.figure_manifests]
    remove_stale_figures(figures_dir, figures, analysed)
    inputs = ReportInputs(
        effects=read_table(smk.input.effects),
        pooled=read_table(smk.input.pooled),
        studies=read_table(smk.input.studies),
        reviews=read_table(smk.input.get("reviews")),
        sensitivity={
            name: read_table(smk.input.get(name))
            for name in (*SENSITIVITY_TABLES, *REPEATED_TABLES)
        },
        provenance=json.loads(Path(smk.input.provenance).read_text(encoding="utf-8")),
        params={k: v for k, v in smk.params.items() if k not in NOT_REPORTED},
        figures=figures,
    )
    with use_labels(smk.params.get("review")):
        context = build_context(inputs)
        if smk.input.get("summary_of_findings"):
            add_certainty(
                context,
                read_table(smk.input.summary_of_findings),
                read_table(smk.input.risk_of_bias),
                load_prisma(".", len(inputs.studies)),
                smk.input.certainty_figures,
                has_rob_file=Path("data/raw/risk_of_bias.csv").exists(),
                review=smk.params.get("review"),
            )
    context["methods"] = [
        *context["methods"],
        *analysis_methods(inputs.pooled, smk.params.get("conventions", "metafor")),
    ]
    context["revman_agreement"] = agreement_section(
        read_table(smk.input.get("reference_comparison"))
    )
    write_text(smk.output.html, render_html(context, figures_dir))
    write_text(smk.output.md, render_markdown(context))
    logging.info("report with %d conditions", len(context["conditions"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
