# Sensitivity and small-study analyses: one job per condition, then the combined tables.


rule sensitivity_condition:
    input:
        effects=CONDITION_EFFECTS,
        studies="data/raw/studies.csv",
        rob=branch(
            exists("data/raw/risk_of_bias.csv"), then="data/raw/risk_of_bias.csv"
        ),
    output:
        tables=directory(CONDITION_SENSITIVITY),
    log:
        "logs/sensitivity_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        subgroups=config["subgroups"],
        moderators=config["moderators"],
        convergence=config["convergence"],
        permutations=config["permutations"],
        seed=config["seed"],
        code=CODE_CORE,
    script:
        "../scripts/analyse_sensitivity.py"


rule gather_sensitivity:
    input:
        folders=per_condition(CONDITION_SENSITIVITY),
    output:
        **sensitivity_outputs("results"),
    log:
        "logs/gather_sensitivity.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE_CORE,
    script:
        "../scripts/gather_tables.py"
