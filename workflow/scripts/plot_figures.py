"""Entry point of rule plot_condition: one condition's tables → its figures (SVG,
byte-reproducible) in results/figures/<condition>/ (the job's directory() output), and the
manifest listing them with their SHA-256 (the report shows those).
"""

import logging
import tempfile
from itertools import chain
from pathlib import Path


def main(smk) -> None:
    from metareview.certainty.risk_of_bias import analysis_table, judgements, load_risk_of_bias
    from metareview.io import read_table
    from metareview.jobs import write_figure_manifest
    from metareview.outputs import write_csv
    from metareview.plots.build import analysis_figures
    from metareview.plots.export import save_svg
    from metareview.plots.gosh_figures import gosh_figures
    from metareview.plots.multilevel_course import multilevel_figures
    from metareview.review_labels import use_labels
    from metareview.sensitivity import TABLES
    from metareview.tables import rows_for

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input.effects)
    pooled = read_table(smk.input.pooled)
    studies = read_table(smk.input.studies)
    folder = Path(smk.input.sensitivity)
    sensitivity = {name: read_table(folder / f"{name}.csv") for name in TABLES}
    condition = {"condition": smk.wildcards.condition}
    # The forest plots' RoB dots: this condition's analyses only, from the raw judgements
    # (input rob: data/raw/risk_of_bias.csv, absent when the review has none), by the
    # function rule assess_certainty writes results/risk_of_bias.csv with; written and read
    # back as that file is, so the figures see the same typed values.
    raw = smk.input.get("rob")
    judged = load_risk_of_bias(Path(raw).parents[2], studies["study_id"]) if raw else None
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(analysis_table(effects, pooled, judgements(judged, studies)), tmp + "/r.csv")
        rob = read_table(tmp + "/r.csv")
    rob = rows_for(rob, condition)
    course = read_table(Path(smk.input.repeated) / "multilevel_timecourse.csv")
    course = rows_for(course, condition)
    gosh = rows_for(read_table(smk.input.get("gosh")), condition)
    out = Path(smk.output.figures)
    out.mkdir(parents=True, exist_ok=True)
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
    write_figure_manifest(smk.output.manifest, written)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
