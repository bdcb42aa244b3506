"""GOSH table and plot, permutation columns of the sensitivity tables (synthetic data)."""

import numpy as np
import pandas as pd
import pytest

from metareview.gosh_analyses import TABLE_COLUMNS, gosh_table
from metareview.plots.export import svg_bytes
from metareview.plots.gosh import gosh_plot
from metareview.plots.gosh_figures import gosh_figures
from metareview.sensitivity import run_sensitivity
from metareview.stats.options import FitOptions
from metareview.stats.pooling import pool


def effects(k, condition="crps", seed=0):
    """SYNTHETIC effect sizes (not from any study)."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.02, 0.2, k)
    return pd.DataFrame(
        {
            "condition": condition,
            "study_id": [f"s{i}" for i in range(k)],
            "outcome": "pain",
            "timepoint_weeks": 1.0,
            "measure": "MD",
            "yi": rng.normal(-0.5, np.sqrt(vi + 0.05)),
            "vi": vi,
            "included": True,
        }
    )


def test_gosh_table_covers_analyses_with_six_or_more_studies():
    frame = pd.concat([effects(7), effects(5, "fibromyalgia", 1)], ignore_index=True)
    table = gosh_table(frame, FitOptions(), seed=1)
    assert list(table.columns) == TABLE_COLUMNS
    assert set(table["condition"]) == {"crps"} and len(table) == 2**7 - 1
    assert table.equals(gosh_table(frame, FitOptions(), seed=1))
    sampled = gosh_table(effects(9), FitOptions(), seed=2, max_subsets=100)
    assert len(sampled) == 100 and sampled.equals(
        gosh_table(effects(9), FitOptions(), seed=2, max_subsets=100)
    )


def test_gosh_figure_is_drawn_and_reproducible():
    table = gosh_table(effects(7), FitOptions(), seed=1)
    pooled = pd.DataFrame(
        {"condition": ["crps"], "outcome": ["pain"], "timepoint_weeks": [1.0], "measure": ["MD"],
         "estimate": [-0.5]}
    )  # fmt: skip
    ((name, plot),) = list(gosh_figures(table, pooled))
    ((_, again),) = list(gosh_figures(table, pooled))
    assert name == "gosh_crps--pain--w1.svg"
    assert svg_bytes(plot) == svg_bytes(again)  # a plotnine plot is drawn once


def test_permutation_p_values_sit_beside_the_tests_and_follow_the_seed():
    frame = effects(12)
    studies = pd.DataFrame(
        {"study_id": frame["study_id"], "route": ["iv", "oral"] * 6, "dose": np.arange(12.0)}
    )
    run = lambda seed, n: run_sensitivity(  # noqa: E731
        frame, studies, subgroups=["route"], moderators=["dose"], permutations=n, seed=seed
    )
    a, b, off = run(5, 300), run(5, 300), run(5, 0)
    for table, column in (("metaregression", "slope_p_perm"), ("subgroup_tests", "p_value_perm")):
        p = a[table].loc[0, column]
        assert 0 < p <= 1 and p == b[table].loc[0, column]
        assert np.isnan(off[table].loc[0, column])
        assert "permutations: 0" in off[table].loc[0, "note"]
    # 12 studies, 6 per route: 924 distinct label assignments > 300, so a seeded sample
    assert (
        abs(a["metaregression"].loc[0, "slope_p_perm"] - a["metaregression"].loc[0, "slope_p"])
        < 0.15
    )


def gosh_subsets(estimates, measure="OR"):
    """SYNTHETIC GOSH rows (one analysis) with the given subset estimates."""
    n = len(estimates)
    return pd.DataFrame(
        {"condition": "crps", "outcome": "pain", "timepoint_weeks": 1.0, "measure": measure,
         "subset": [f"s{i}" for i in range(n)], "k": 6, "q": 1.0, "i2": np.linspace(0, 60, n),
         "h2": 1.0, "tau2": 0.0, "estimate": estimates}
    )  # fmt: skip


def test_gosh_ratio_beyond_exp_range_renders_and_says_what_is_off_the_axis():
    # A Peto pooled log odds ratio of 837 (unbalanced arms of 1e9) beside random-effects
    # subsets between -16 and 21: e^837 overflows a float (found by make fuzz, large profile).
    subsets = gosh_subsets(np.linspace(-16.5, 21.7, 63))
    plot = gosh_plot(subsets, "OR", pooled=837.0)
    svg = svg_bytes(plot).decode()
    assert "all-studies estimate" in plot.labels.subtitle and "outside" in plot.labels.subtitle
    assert "inf" not in svg.lower().replace("information", "")
    # Subsets beyond e^±700 are counted, not drawn at a wrong place.
    wild = gosh_plot(gosh_subsets([0.1, 0.2, 750.0, -800.0, 0.3, 0.4, 0.5]), "RR", pooled=0.2)
    assert "2 subsets" in wild.labels.subtitle
    assert svg_bytes(wild).startswith(b"<?xml")


def test_gosh_subsets_without_a_fit_are_counted_as_such_not_as_off_the_axis():
    # A subset whose tau² does not converge is reported with NaN (as metafor's NA); the
    # subtitle said "beyond e^±700" for it, also on a mean-difference axis.
    for measure in ("MD", "RR"):
        plot = gosh_plot(gosh_subsets([0.1, np.nan, 0.3, 0.4, np.nan, 0.6, 0.7], measure), measure)
        assert "2 subsets without a fit not drawn" in plot.labels.subtitle
        assert "e^±" not in plot.labels.subtitle
        assert svg_bytes(plot).startswith(b"<?xml")
    both = gosh_plot(gosh_subsets([0.1, np.nan, 750.0, 0.4, 0.5, 0.6, 0.7], "OR"), "OR")
    assert "1 subset without a fit" in both.labels.subtitle
    assert "1 subset beyond e^±700" in both.labels.subtitle


def test_gosh_identical_estimates_render_on_both_scales():
    for measure in ("OR", "MD"):
        plot = gosh_plot(gosh_subsets([0.25] * 63, measure), measure, pooled=0.25)
        assert svg_bytes(plot).startswith(b"<?xml")


def test_gosh_dl_subsets_with_a_dominant_weight_are_finite():
    frame = effects(6)
    frame.loc[0, ["yi", "vi"]] = [400.0, 1e-12]
    frame.loc[1, ["yi", "vi"]] = [-18.1, 1e5]
    table = gosh_table(frame, FitOptions(tau2_method="DL"), seed=1)
    assert np.isfinite(table[["tau2", "estimate", "i2", "h2"]].to_numpy(float)).all()
    pair = table[table["k"] == 2].iloc[0]  # studies 1 and 2: I² and H² were 0 and NaN here
    fit = pool([400.0, -18.1], [1e-12, 1e5], tau2_method="DL", ci_method="z")
    assert pair["estimate"] == pytest.approx(fit.estimate, rel=1e-12)
    assert (pair["i2"], pair["h2"]) == pytest.approx((fit.i2, fit.h2), rel=1e-12)
    assert 40 < pair["i2"] < 45
