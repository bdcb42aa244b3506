# GOSH: the random-effects model fitted to every subset of each analysis with k >= 6, one
# job per condition (each analysis has its own seed), then the combined results/gosh.csv.


rule gosh_condition:
    input:
        effects=CONDITION_EFFECTS,
    output:
        gosh=CONDITION_GOSH,
    log:
        "logs/gosh_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        tau2_method=config["tau2_method"],
        convergence=config["convergence"],
        seed=config["seed"],
        code=CODE_CORE,
    script:
        "../scripts/run_gosh.py"


rule gosh:
    input:
        gosh=per_condition(CONDITION_GOSH),
    output:
        gosh="results/gosh.csv",
    log:
        "logs/gosh.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE_CORE,
    script:
        "../scripts/gather_tables.py"
