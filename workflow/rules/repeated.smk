# Repeated timepoints (three-level models, CR2) and rare events (binomial-normal GLMM): one
# job per condition (every series and analysis lies within one condition), then the
# combined tables.


rule repeated_condition:
    input:
        CONDITION_EFFECTS,
    output:
        tables=directory(CONDITION_REPEATED),
    log:
        "logs/repeated_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        multilevel=config["multilevel"],
        rare_events=config["rare_events"],
        level=config["level"],
        code=CODE_CORE,
    script:
        "../scripts/analyse_repeated.py"


rule analyse_repeated:
    input:
        folders=per_condition(CONDITION_REPEATED),
    output:
        multilevel="results/multilevel.csv",
        timecourse="results/multilevel_timecourse.csv",
        rare_events="results/rare_events.csv",
    log:
        "logs/analyse_repeated.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE_CORE,
    script:
        "../scripts/gather_tables.py"
