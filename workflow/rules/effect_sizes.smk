# Effect sizes: one job per condition, then the combined data/processed/effect_sizes.csv.


rule effect_sizes_condition:
    input:
        studies="data/raw/studies.csv",
        outcomes="data/raw/outcomes/{condition}.csv",
        analyses=branch(exists("data/raw/analyses.csv"), then="data/raw/analyses.csv"),
    output:
        CONDITION_EFFECTS,
    log:
        "logs/effect_sizes_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        measure_continuous=config["measure"]["continuous"],
        measure_binary=config["measure"]["binary"],
        harmonize_scale_to=config["harmonize_scale_to"],
        crossover_correlation=config["crossover_correlation"],
        level=config["level"],
        conventions=config["conventions"],
        code=CODE_CORE,
    script:
        "../scripts/compute_effect_sizes.py"


rule gather_effect_sizes:
    input:
        per_condition(CONDITION_EFFECTS),
    output:
        "data/processed/effect_sizes.csv",
    log:
        "logs/gather_effect_sizes.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE_CORE,
    script:
        "../scripts/gather_tables.py"
