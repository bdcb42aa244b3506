# GOSH: the random-effects model fitted to every subset of each analysis with k >= 6.


rule gosh:
    input:
        effects="data/processed/effect_sizes.csv",
    output:
        gosh="results/gosh.csv",
    log:
        "logs/gosh.log",
    conda:
        "../envs/metareview.yaml"
    params:
        tau2_method=config["tau2_method"],
        convergence=config["convergence"],
        seed=config["seed"],
    script:
        "../scripts/run_gosh.py"
