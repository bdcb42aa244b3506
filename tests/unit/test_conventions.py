"""conventions: revman against per-study numbers RevMan stored (PRPData-22-11.csv)."""

import numpy as np
import pandas as pd
import pytest

from metareview.conventions import apply_conventions
from metareview.effect_sizes import EffectOptions, compute_effect_sizes


def effects(rows: list[dict], measure_continuous="SMD", measure_binary="RD") -> pd.DataFrame:
    outcomes = pd.DataFrame(rows)
    outcomes = outcomes.assign(condition="c", outcome="o", timepoint_weeks=0.0)
    studies = pd.DataFrame(
        {"study_id": outcomes["study_id"], "label": outcomes["study_id"], "year": 2014,
         "design": "parallel"}
    )  # fmt: skip
    return compute_effect_sizes(
        _typed(outcomes), studies, EffectOptions(measure_continuous, measure_binary)
    )


def _typed(outcomes: pd.DataFrame) -> pd.DataFrame:
    kind = np.where(outcomes.get("exp_events").notna(), "binary", "continuous")
    out = outcomes.assign(data_kind=kind, higher_is_better=False, source_file="x", source_line=2)
    for col in ("exp_mean", "exp_sd", "ctl_mean", "ctl_sd", "exp_events", "ctl_events"):
        if col not in out:
            out[col] = np.nan
    return out


def test_revman5_smd_matches_revman_per_study_se():
    """Arik 2014, grip strength: RevMan stores SMD −0.78042285 with SE 0.2323872."""
    row = dict(study_id="arik", exp_n=40, ctl_n=40, exp_mean=8.3, exp_sd=14.3, ctl_mean=24.3,
               ctl_sd=24.9, exp_events=np.nan, ctl_events=np.nan)  # fmt: skip
    metafor = effects([row])
    revman = apply_conventions(metafor, "revman")
    assert revman.loc[0, "yi"] == pytest.approx(-0.78042285, abs=5e-9)
    assert np.sqrt(revman.loc[0, "vi"]) == pytest.approx(0.2323872, abs=5e-8)
    assert metafor.loc[0, "yi"] != pytest.approx(revman.loc[0, "yi"], abs=1e-7)
    assert apply_conventions(metafor, "metafor") is metafor


def test_revman_rd_with_a_zero_cell():
    """Gedik 2016: 29/32 vs 13/13 stored as RD −0.09375 with SE 0.07302736."""
    row = dict(study_id="gedik", exp_n=32, ctl_n=13, exp_events=29, ctl_events=13)
    revman = apply_conventions(effects([row]), "revman")
    assert revman.loc[0, "yi"] == pytest.approx(-0.09375, abs=1e-12)
    assert np.sqrt(revman.loc[0, "vi"]) == pytest.approx(0.07302736, abs=5e-9)


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="metafor, revman"):
        apply_conventions(pd.DataFrame(), "stata")
