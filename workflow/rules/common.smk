# Validation of config.yaml and data/raw/ before any rule runs, and input helpers.
import sys

from metareview.analysis_settings import check_analyses_against, read_analyses
from metareview.certainty.inputs import check_certainty_inputs
from metareview.config import check_config_columns, load_config
from metareview.io import load_inputs, unwritable_folders
from metareview.validation import InputError

try:
    _validated = load_config("config.yaml", overrides=dict(config))
    config.clear()
    config.update(_validated)
    RAW = load_inputs(".", config["conditions"])
    check_config_columns(config, RAW.studies)
    ANALYSES = read_analyses(".")
    check_analyses_against(ANALYSES, RAW.outcomes)
    check_certainty_inputs(".", RAW.studies)
except InputError as error:
    sys.exit(str(error))
_unwritable = unwritable_folders(".")
if _unwritable:
    sys.exit(_unwritable)

CONDITIONS = sorted(RAW.outcomes["condition"].unique())
CERTAINTY_INPUTS = [
    "data/raw/risk_of_bias.csv",
    "data/raw/prisma.yaml",
    "data/raw/analyses.csv",
]


def raw_outcome_files(wildcards=None):
    """The condition tables this run analyses."""
    return [f"data/raw/outcomes/{condition}.csv" for condition in CONDITIONS]


def raw_input_files(wildcards=None):
    """Every raw input and the config, for provenance checksums."""
    files = ["data/raw/studies.csv", *raw_outcome_files()]
    optional_inputs = CERTAINTY_INPUTS + [
        f"data/raw/{name}" for name in ("reviews.csv", "reference_results.csv")
    ]
    for optional in optional_inputs:
        if Path(optional).exists():
            files.append(optional)
    if Path("config.yaml").exists():
        files.append("config.yaml")
    return files
