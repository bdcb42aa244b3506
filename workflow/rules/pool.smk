# Random-effects pooling: one job per condition, then the combined results/pooled.csv.


rule pool_condition:
    input:
        effects=CONDITION_EFFECTS,
        analyses=branch(exists("data/raw/analyses.csv"), then="data/raw/analyses.csv"),
    output:
        CONDITION_POOLED,
    log:
        "logs/pool_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        convergence=config["convergence"],
        conventions=config["conventions"],
        code=CODE_CORE,
    script:
        "../scripts/pool_effects.py"


rule gather_pooled:
    input:
        per_condition(CONDITION_POOLED),
    output:
        report(
            "results/pooled.csv",
            caption="../report/pooled.rst",
            category="Tables",
        ),
    log:
        "logs/gather_pooled.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE_CORE,
    script:
        "../scripts/gather_tables.py"


rule write_provenance:
    input:
        raw_input_files,
    output:
        "results/provenance.json",
    log:
        "logs/write_provenance.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        config=config,
        code=CODE_CORE,
    script:
        "../scripts/write_provenance.py"
