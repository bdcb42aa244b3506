# Repeated timepoints (three-level models, CR2) and rare events (binomial-normal GLMM).


rule analyse_repeated:
    input:
        "data/processed/effect_sizes.csv",
    output:
        multilevel="results/multilevel.csv",
        timecourse="results/multilevel_timecourse.csv",
        rare_events="results/rare_events.csv",
    log:
        "logs/analyse_repeated.log",
    conda:
        "../envs/metareview.yaml"
    params:
        multilevel=config["multilevel"],
        rare_events=config["rare_events"],
        level=config["level"],
    script:
        "../scripts/analyse_repeated.py"
