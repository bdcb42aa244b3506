"""Column lists and keys of the tables the workflow writes (the data contract's outputs)."""

from __future__ import annotations

import hashlib
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


#: Longest analysis id; longer ones are cut and end in a hash (figure names must fit in 255
#: bytes).
MAX_ID_LENGTH = 120


def timepoint_slug(weeks: float) -> str:
    """File-name-safe timepoint: 1 → ``w1``, 0.5 → ``w0p5``, 15 min → ``w0p00148810``."""
    weeks = float(weeks)
    if weeks.is_integer() and abs(weeks) < 1e15:
        return f"w{int(weeks)}"
    if not math.isfinite(weeks) or abs(weeks) >= 1e15:
        return "w" + repr(weeks).replace(".", "p").replace("+", "")
    digits = max(0, 6 - int(math.floor(math.log10(abs(weeks)))) - 1) if weeks else 0
    return "w" + f"{weeks:.{digits}f}".rstrip("0").replace(".", "p")


def short_hash(*parts) -> str:
    """Ten hex digits of SHA-256 of ``parts``: stable across runs and machines."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:10]


def fit_name(name: str, limit: int = MAX_ID_LENGTH) -> str:
    """``name`` itself when at most ``limit`` characters, else cut and ended by a hash."""
    if len(name) <= limit:
        return name
    return f"{name[: limit - 11]}-{short_hash(name)}"


def analysis_id(condition: str, outcome: str, timepoint_weeks: float) -> str:
    """Stable id of an analysis, used in figure file names and report anchors:
    ``crps--pain_intensity--w1``; cut and ended by a hash beyond :data:`MAX_ID_LENGTH`
    characters. Ids that still coincide (timepoints equal to 6 significant digits, or slugs
    containing ``--``) are told apart by :func:`metareview.analyses.unique_ids`."""
    return fit_name(f"{condition}--{outcome}--{timepoint_slug(timepoint_weeks)}")


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
