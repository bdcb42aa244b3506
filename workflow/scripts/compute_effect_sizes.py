"""Entry point of rule effect_sizes_condition: data/raw/ → one condition's effect sizes."""

import logging


def main(smk) -> None:
    from metareview.effect_sizes import EffectOptions, compute_effect_sizes
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
    effects = compute_effect_sizes(raw.outcomes, raw.studies, options)
    logging.info("%d rows, %d included", len(effects), int(effects["included"].sum()))
    write_csv(effects, smk.output[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
