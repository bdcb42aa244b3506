# Figures and the reviewer's report (HTML, self-contained; Markdown twin).


rule plot_figures:
    input:
        effects="data/processed/effect_sizes.csv",
        pooled="results/pooled.csv",
        studies="data/raw/studies.csv",
        small_study="results/small_study.csv",
        trimfill_filled="results/trimfill_filled.csv",
        leave_one_out="results/leave_one_out.csv",
        subgroups="results/subgroups.csv",
        subgroup_tests="results/subgroup_tests.csv",
        metaregression="results/metaregression.csv",
        gosh="results/gosh.csv",
        multilevel_timecourse="results/multilevel_timecourse.csv",
        risk_of_bias="results/risk_of_bias.csv",
    output:
        report(
            directory("results/figures"),
            patterns=["{name}.svg"],
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        "logs/plot_figures.log",
    conda:
        "../envs/metareview.yaml"
    params:
        conditions=config["conditions"],
        review=config["review"],
    script:
        "../scripts/plot_figures.py"


rule render_report:
    input:
        effects="data/processed/effect_sizes.csv",
        pooled="results/pooled.csv",
        studies="data/raw/studies.csv",
        reviews=branch(exists("data/raw/reviews.csv"), then="data/raw/reviews.csv"),
        subgroups="results/subgroups.csv",
        subgroup_tests="results/subgroup_tests.csv",
        metaregression="results/metaregression.csv",
        small_study="results/small_study.csv",
        leave_one_out="results/leave_one_out.csv",
        influence="results/influence.csv",
        cumulative="results/cumulative.csv",
        rob_sensitivity="results/rob_sensitivity.csv",
        trimfill_filled="results/trimfill_filled.csv",
        multilevel="results/multilevel.csv",
        multilevel_timecourse="results/multilevel_timecourse.csv",
        rare_events="results/rare_events.csv",
        provenance="results/provenance.json",
        figures="results/figures",
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
    script:
        "../scripts/render_report.py"
