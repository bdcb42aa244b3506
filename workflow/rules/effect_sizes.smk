rule compute_effect_sizes:
    input:
        studies="data/raw/studies.csv",
        outcomes=raw_outcome_files,
        analyses=branch(exists("data/raw/analyses.csv"), then="data/raw/analyses.csv"),
    output:
        "data/processed/effect_sizes.csv",
    log:
        "logs/compute_effect_sizes.log",
    conda:
        "../envs/metareview.yaml"
    params:
        conditions=CONDITIONS,
        measure_continuous=config["measure"]["continuous"],
        measure_binary=config["measure"]["binary"],
        harmonize_scale_to=config["harmonize_scale_to"],
        crossover_correlation=config["crossover_correlation"],
        level=config["level"],
        conventions=config["conventions"],
    script:
        "../scripts/compute_effect_sizes.py"
