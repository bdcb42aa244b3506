rule analyse_sensitivity:
    input:
        effects="data/processed/effect_sizes.csv",
        studies="data/raw/studies.csv",
        rob=branch(exists("data/raw/risk_of_bias.csv"), then="data/raw/risk_of_bias.csv"),
    output:
        subgroups="results/subgroups.csv",
        subgroup_tests="results/subgroup_tests.csv",
        metaregression="results/metaregression.csv",
        small_study="results/small_study.csv",
        trimfill_filled="results/trimfill_filled.csv",
        leave_one_out="results/leave_one_out.csv",
        influence="results/influence.csv",
        cumulative="results/cumulative.csv",
        rob_sensitivity="results/rob_sensitivity.csv",
    log:
        "logs/analyse_sensitivity.log",
    conda:
        "../envs/metareview.yaml"
    params:
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        subgroups=config["subgroups"],
        moderators=config["moderators"],
        convergence=config["convergence"],
    script:
        "../scripts/analyse_sensitivity.py"
