"""metareview: effect sizes, random-effects pooling, sensitivity analyses, plots and reports.

The statistical core of the ketamine-for-chronic-pain review workflow. It never imports
snakemake; the workflow's scripts are thin entry points around it.
"""

__version__ = "0.1.0"
