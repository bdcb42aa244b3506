# Figures (one job per condition, each drawing into results/figures/<condition>/, and the
# overview) and the reviewer's report (HTML, self-contained; Markdown twin).


rule plot_condition:
    input:
        sensitivity=CONDITION_SENSITIVITY,
        effects=CONDITION_EFFECTS,
        pooled=CONDITION_POOLED,
        studies="data/raw/studies.csv",
        gosh=CONDITION_GOSH,
        repeated=CONDITION_REPEATED,
        rob=branch(
            exists("data/raw/risk_of_bias.csv"), then="data/raw/risk_of_bias.csv"
        ),
    output:
        # The manifest lists the figures drawn, with their SHA-256 (see metareview.jobs).
        manifest=FIGURE_MANIFEST,
        # Which figures a condition has depends on its data (a funnel plot needs k >= 3):
        # the folder is the output, and `snakemake --report` lists every SVG in it.
        figures=report(
            directory(CONDITION_FIGURES),
            patterns=["{kind,[a-z]+}_{figure}.svg"],
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{condition}",
        ),
    log:
        "logs/plot_condition/{condition}.log",
    conda:
        "../envs/metareview.yaml"
    resources:
        mem_mb=1500,
        runtime=30,
    params:
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
        level=config["level"],
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
        # checksums), so the figure folders need not be inputs.
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
        code=CODE_REPORT,
    script:
        "../scripts/render_report.py"
