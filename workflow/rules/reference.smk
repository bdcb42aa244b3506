# Comparison with the results RevMan stored (data/raw/reference_results.csv, optional).


rule compare_reference:
    input:
        pooled="results/pooled.csv",
        reference="data/raw/reference_results.csv",
    output:
        report(
            "results/reference_comparison.csv",
            caption="../report/reference_comparison.rst",
            category="Tables",
        ),
    log:
        "logs/compare_reference.log",
    conda:
        "../envs/metareview.yaml"
    script:
        "../scripts/compare_reference.py"
