"""Entry point of rule effect_sizes_condition: data/raw/ → one condition's effect sizes."""

import logging


def main(smk) -> None:
    from metareview.analysis_settings import compute_effects_with_settings, read_analyses
    from metareview.conventions import apply_conventions
    from metareview.effect_sizes import EffectOptions
    from metareview.io import load_inputs
    from metareview.outputs import write_csv

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    raw = load_inputs(".", [smk.wildcards.condition])
    options = EffectOptions(
        measure_continuous=smk.params.measure_continuous,
        measure_binary=smk.params.measure_binary,
        harmonize_scale_to=smk.params.harmonize_scale_to,
        crossover_correlation=smk.params.crossover_correlation,
        level=smk.params.level,
    )
    effects = compute_effects_with_settings(raw.outcomes, raw.studies, options, read_analyses("."))
    effects = apply_conventions(effects, smk.params.conventions, smk.params.level)
    logging.info("%d rows, %d included", len(effects), int(effects["included"].sum()))
    write_csv(effects, smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
