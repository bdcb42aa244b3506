# Figures (one job per condition, and the overview) and the reviewer's report (HTML,
# self-contained; Markdown twin).


# One figure rule per condition (plot_condition_<condition>), each declaring every figure
# of its condition as an output (Snakemake outputs are fixed per rule, and a condition's
# figures depend on its data: metareview.plots.figure_plan, cached in FIGURES).
for _condition in CONDITIONS:

    rule:
        name:
            plot_rule_name(_condition)
        input:
            **sensitivity_outputs(CONDITION_RESULTS.format(condition=_condition)),
            effects=CONDITION_EFFECTS.format(condition=_condition),
            pooled=CONDITION_POOLED.format(condition=_condition),
            studies="data/raw/studies.csv",
            gosh=CONDITION_GOSH.format(condition=_condition),
            multilevel_timecourse=CONDITION_TIMECOURSE.format(condition=_condition),
            rob=branch(
                exists("data/raw/risk_of_bias.csv"), then="data/raw/risk_of_bias.csv"
            ),
        output:
            # The manifest lists the figures really drawn (see metareview.jobs).
            manifest=FIGURE_MANIFEST.format(condition=_condition),
            figures=figure_outputs(_condition),
        log:
            f"logs/plot_condition/{_condition}.log",
        conda:
            "../envs/metareview.yaml"
        resources:
            mem_mb=1500,
            runtime=30,
        params:
            condition=_condition,
            review=config["review"],
            code=CODE_PLOTS,
        script:
            "../scripts/plot_figures.py"


rule plot_overview:
    input:
        effects="data/processed/effect_sizes.csv",
        pooled="results/pooled.csv",
        studies="data/raw/studies.csv",
    output:
        report(
            "results/figures/overview.svg",
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        "logs/plot_overview.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        conditions=config["conditions"],
        review=config["review"],
        code=CODE_PLOTS,
    script:
        "../scripts/plot_overview.py"


rule render_report:
    input:
        **sensitivity_outputs("results"),
        effects="data/processed/effect_sizes.csv",
        pooled="results/pooled.csv",
        studies="data/raw/studies.csv",
        reviews=branch(exists("data/raw/reviews.csv"), then="data/raw/reviews.csv"),
        multilevel="results/multilevel.csv",
        multilevel_timecourse="results/multilevel_timecourse.csv",
        rare_events="results/rare_events.csv",
        provenance="results/provenance.json",
        overview="results/figures/overview.svg",
        # Each manifest changes whenever its condition's figures are redrawn (it lists their
        # checksums), so the figures themselves need not be inputs: a thousand more files in
        # the DAG made every start slower at scale.
        figure_manifests=per_condition(FIGURE_MANIFEST),
        reference_comparison=branch(
            exists("data/raw/reference_results.csv"),
            then="results/reference_comparison.csv",
        ),
        summary_of_findings="results/summary_of_findings.csv",
        risk_of_bias="results/risk_of_bias.csv",
        certainty_figures="results/certainty_figures",
    output:
        html=report(
            "results/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        md="results/report.md",
    log:
        "logs/render_report.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        conditions=config["conditions"],
        tau2_method=config["tau2_method"],
        ci_method=config["ci_method"],
        level=config["level"],
        measure=config["measure"],
        harmonize_scale_to=config["harmonize_scale_to"],
        crossover_correlation=config["crossover_correlation"],
        subgroups=config["subgroups"],
        moderators=config["moderators"],
        review=config["review"],
        conventions=config["conventions"],
        figures_dir=lambda wildcards, input: os.path.dirname(input.overview),
        declared_figures=[name for c in CONDITIONS for name in FIGURES[c]],
        code=CODE_REPORT,
    script:
        "../scripts/render_report.py"
