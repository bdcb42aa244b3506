rule pool_effects:
    input:
        effects="data/processed/effect_sizes.csv",
        analyses=branch(exists("data/raw/analyses.csv"), then="data/raw/analyses.csv"),
    output:
        report(
            "results/pooled.csv",
            caption="../report/pooled.rst",
            category="Tables",
        ),
    log:
        "logs/pool_effects.log",
    conda:
        "../envs/metareview.yaml"
    params:
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        convergence=config["convergence"],
        conventions=config["conventions"],
    script:
        "../scripts/pool_effects.py"


rule write_provenance:
    input:
        raw_input_files,
    output:
        "results/provenance.json",
    log:
        "logs/write_provenance.log",
    conda:
        "../envs/metareview.yaml"
    params:
        config=config,
    script:
        "../scripts/write_provenance.py"
