rule pool_effects:
    input:
        "data/processed/effect_sizes.csv",
    output:
        report(
            "results/pooled.csv",
            caption="../report/pooled.rst",
            category="Tables",
        ),
    params:
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        convergence=config["convergence"],
    log:
        "logs/pool_effects.log",
    script:
        "../scripts/pool_effects.py"


rule write_provenance:
    input:
        raw_input_files,
    output:
        "results/provenance.json",
    params:
        config=config,
    log:
        "logs/write_provenance.log",
    script:
        "../scripts/write_provenance.py"
