"""metareview: effect sizes, random-effects pooling, sensitivity analyses, plots and reports.

The statistical core of a systematic-review workflow (any review; its wording comes from
config). It never imports
snakemake; the workflow's scripts are thin entry points around it.
"""

__version__ = "0.1.0"
