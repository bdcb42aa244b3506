"""Entry point of rule analyse_repeated: effect_sizes.csv → multilevel and rare-event tables."""

import logging

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
    write_csv(multilevel, smk.output.multilevel)
    write_csv(course, smk.output.timecourse)
    write_csv(rare, smk.output.rare_events)
    logging.info("multilevel: %d rows; rare events: %d analyses", len(multilevel), len(rare))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
