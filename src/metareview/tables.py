"""Column lists and keys of the tables the workflow writes (the data contract's outputs)."""

from __future__ import annotations

import math

import pandas as pd

#: The analysis key: one analysis per condition × outcome × timepoint (× measure).
ANALYSIS_KEYS = ["condition", "outcome", "timepoint_weeks"]

#: ``data/processed/effect_sizes.csv``: contract columns first, then provenance.
EFFECT_SIZE_COLUMNS = [
    "condition",
    "study_id",
    "outcome",
    "timepoint_weeks",
    "measure",
    "yi",
    "vi",
    "sei",
    "ci_low",
    "ci_high",
    "included",
    "exclusion_reason",
    "label",
    "year",
    "design",
    "data_kind",
    "higher_is_better",
    "exp_n",
    "ctl_n",
    "exp_mean",
    "exp_sd",
    "ctl_mean",
    "ctl_sd",
    "exp_events",
    "ctl_events",
    "exp_dispersion_source",
    "ctl_dispersion_source",
    "conversions",
    "continuity_correction",
    "sign_flipped",
    "assumptions",
    "plausibility_warnings",
    "outcome_label",
    "timepoint_label",
    "source_file",
    "source_line",
]

#: ``results/pooled.csv``: contract columns, then extras.
POOLED_COLUMNS = [
    "condition",
    "outcome",
    "timepoint_weeks",
    "measure",
    "tau2_method",
    "ci_method",
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "pi_low",
    "pi_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "q",
    "q_df",
    "q_p",
    "fe_estimate",
    "fe_se",
    "fe_ci_low",
    "fe_ci_high",
    "level",
    "higher_is_better",
    "tau2_iterations",
    "analysis_id",
    "note",
    "model",
    "pooling_method",
    "source_analysis",
]

RATIO_MEASURES = frozenset({"RR", "OR", "HR", "ROM"})
CONTINUOUS_MEASURES = ("MD", "SMD", "ROM")
BINARY_MEASURES = ("RR", "OR", "RD")
GENERIC_MEASURES = ("MD", "SMD", "ROM", "RR", "OR", "RD", "HR")


def timepoint_slug(weeks: float) -> str:
    """File-name-safe timepoint: 1 → ``w1``, 0.5 → ``w0p5``, 15 min → ``w0p00148810``."""
    if float(weeks).is_integer():
        return f"w{int(weeks)}"
    digits = max(0, 6 - int(math.floor(math.log10(abs(weeks)))) - 1) if weeks else 0
    return "w" + f"{weeks:.{digits}f}".rstrip("0").replace(".", "p")


def analysis_id(condition: str, outcome: str, timepoint_weeks: float) -> str:
    """Stable id of an analysis, used in figure file names: ``crps--pain_intensity--w1``."""
    return f"{condition}--{outcome}--{timepoint_slug(timepoint_weeks)}"


def rows_for(df: pd.DataFrame | None, key: dict) -> pd.DataFrame:
    """Rows of ``df`` matching an analysis key (timepoints compared as floats).

    Key columns missing from ``df`` are ignored; ``None`` or an empty table gives an empty
    table.
    """
    if df is None or df.empty:
        return pd.DataFrame()
    mask = pd.Series(True, index=df.index)
    for col, value in key.items():
        if col not in df:
            continue
        if col == "timepoint_weeks":
            mask &= (pd.to_numeric(df[col], errors="coerce") - float(value)).abs() < 1e-12
        else:
            mask &= df[col].astype(str) == str(value)
    return df[mask]
