# Certainty of evidence: risk of bias per analysis, GRADE and the Summary of Findings,
# and their figures (RoB traffic-light and summary plots, PRISMA 2020 flow diagram).


rule assess_certainty:
    input:
        effects="data/processed/effect_sizes.csv",
        pooled="results/pooled.csv",
        studies="data/raw/studies.csv",
        small_study="results/small_study.csv",
        rob=branch(
            exists("data/raw/risk_of_bias.csv"), then="data/raw/risk_of_bias.csv"
        ),
        analyses=branch(exists("data/raw/analyses.csv"), then="data/raw/analyses.csv"),
    output:
        summary_of_findings="results/summary_of_findings.csv",
        risk_of_bias="results/risk_of_bias.csv",
    log:
        "logs/assess_certainty.log",
    conda:
        "../envs/metareview.yaml"
    params:
        grade=config["grade"],
    script:
        "../scripts/assess_certainty.py"


rule plot_certainty:
    input:
        risk_of_bias="results/risk_of_bias.csv",
        effects="data/processed/effect_sizes.csv",
        prisma=branch(exists("data/raw/prisma.yaml"), then="data/raw/prisma.yaml"),
        studies="data/raw/studies.csv",
    output:
        directory("results/certainty_figures"),
    log:
        "logs/plot_certainty.log",
    conda:
        "../envs/metareview.yaml"
    script:
        "../scripts/plot_certainty.py"
