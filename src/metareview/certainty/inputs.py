"""Validation of the certainty inputs before any rule runs (called from ``common.smk``).

Checks ``data/raw/risk_of_bias.csv``, ``data/raw/prisma.yaml``, the GRADE override columns of
``data/raw/analyses.csv``, the optional ``indirectness`` column of ``studies.csv`` and, given
the outcome tables, that every outcome named in ``risk_of_bias.csv`` is one its study reports;
every problem of every file is reported together.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metareview.certainty.overrides import load_overrides
from metareview.certainty.prisma import load_prisma
from metareview.certainty.risk_of_bias import check_outcomes, load_risk_of_bias
from metareview.validation import InputError, Problem, check_choice

INDIRECTNESS = ("no", "serious", "very_serious")


def check_indirectness(studies: pd.DataFrame, file: str = "data/raw/studies.csv") -> list:
    """Values of the optional ``indirectness`` column: ``no``, ``serious``, ``very_serious``."""
    problems: list[Problem] = []
    if "indirectness" not in studies.columns:
        return problems
    lines = studies.attrs.get("lines", [i + 2 for i in range(len(studies))])
    for i, value in enumerate(studies["indirectness"].fillna("").astype(str)):
        check_choice(value.strip(), INDIRECTNESS, file, lines[i], "indirectness", problems)
    return problems


def check_certainty_inputs(
    root: Path | str, studies: pd.DataFrame, outcomes: pd.DataFrame | None = None
) -> None:
    """Raise :class:`InputError` listing every problem of the certainty inputs under ``root``.

    With ``outcomes`` (every outcome row of the review), a risk-of-bias row naming an outcome
    its study does not report is a problem too (it would silently match no analysis).
    """
    problems = check_indirectness(studies)
    judged = None
    try:
        judged = load_risk_of_bias(root, studies["study_id"].astype(str))
    except InputError as error:
        problems.extend(error.problems)
    for load in (lambda: load_prisma(root, len(studies)), lambda: load_overrides(root)):
        try:
            load()
        except InputError as error:
            problems.extend(error.problems)
    if outcomes is not None:  # on a valid risk_of_bias.csv only: its own errors come first
        problems.extend(check_outcomes(judged, outcomes))
    if problems:
        raise InputError(problems)


__all__ = ["INDIRECTNESS", "check_certainty_inputs", "check_indirectness"]
