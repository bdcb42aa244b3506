"""Entry point of the per-condition figure rules (plot_condition_<condition>): one
condition's tables → its figures (SVG, byte-reproducible) in results/figures/.

Every figure is a declared output (planned by metareview.plots.figure_plan); a declared
figure the computed results do not support is written as a "not applicable: <reason>"
placeholder. The manifest lists the figures really drawn (with their SHA-256): the report
shows those.
"""

import logging
import tempfile
from itertools import chain
from pathlib import Path


def main(smk) -> None:
    from metareview.certainty.risk_of_bias import analysis_table, judgements, load_risk_of_bias
    from metareview.io import read_table
    from metareview.jobs import write_figure_manifest
    from metareview.outputs import write_atomic, write_csv
    from metareview.plots.build import analysis_figures
    from metareview.plots.export import save_svg
    from metareview.plots.figure_plan import placeholder_svg
    from metareview.plots.gosh_figures import gosh_figures
    from metareview.plots.multilevel_course import multilevel_figures
    from metareview.report.context import SENSITIVITY_TABLES
    from metareview.review_labels import use_labels

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    sensitivity = {name: read_table(smk.input.get(name)) for name in SENSITIVITY_TABLES}
    # The forest plots' RoB dots: this condition's analyses only, from the raw judgements
    # (the same table rule assess_certainty writes as results/risk_of_bias.csv).
    # Written and read back as that file is, so the figures see the same typed values.
    rob = analysis_table(
        effects, pooled, judgements(load_risk_of_bias(".", studies["study_id"]), studies)
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(rob, Path(tmp) / "risk_of_bias.csv")
        rob = read_table(Path(tmp) / "risk_of_bias.csv")
    course = read_table(smk.input.multilevel_timecourse)
    gosh = read_table(smk.input.gosh)
    declared = {Path(path).name: path for path in smk.output.figures}
    # results/figures/, where the declared figures are (a condition with none draws none).
    out = Path(smk.output.figures[0]).parent if declared else Path("results", "figures")
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
            if name not in declared:
                # The plan (metareview.plots.figure_plan) missed it: still drawn and
                # reported, but Snakemake does not track it.
                logging.warning("%s was drawn but not declared", name)
            written.append(save_svg(plot, out / name))
            logging.info("wrote %s", out / name)
    drawn = {Path(path).name for path in written}
    for name, path in sorted(declared.items()):
        if name not in drawn:
            write_atomic(path, placeholder_svg(name))
            logging.info("%s: not applicable (placeholder written)", path)
    write_figure_manifest(smk.output.manifest, written)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
