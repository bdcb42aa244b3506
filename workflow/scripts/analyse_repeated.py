"""Entry point of rule repeated_condition: one condition's effect sizes → its three-level
and rare-event tables (results/conditions/<condition>/repeated/: multilevel.csv,
multilevel_timecourse.csv, rare_events.csv)."""

import logging
from pathlib import Path

from metareview.io import read_table
from metareview.outputs import write_csv
from metareview.repeated import multilevel_tables, rare_events_table


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    effects = read_table(smk.input[0])
    multilevel, course = multilevel_tables(
        effects,
        time_moderator=smk.params.multilevel["time_moderator"],
        times=smk.params.multilevel["times"],
        level=smk.params.level,
    )
    rare = rare_events_table(
        effects, model=smk.params.rare_events["model"], level=smk.params.level
    )
    folder = Path(smk.output.tables)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(multilevel, folder / "multilevel.csv")
    write_csv(course, folder / "multilevel_timecourse.csv")
    write_csv(rare, folder / "rare_events.csv")
    logging.info("multilevel: %d rows; rare events: %d analyses", len(multilevel), len(rare))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
