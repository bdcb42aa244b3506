"""Structural tests of the figures (no pixel baselines). All data here are SYNTHETIC."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from plotnine import ggplot

from metareview.plots import (
    bubble_plot,
    figure_size,
    forest_height,
    forest_plot,
    funnel_plot,
    loo_forest_plot,
    overview_plot,
    subgroup_forest_plot,
    timecourse_plot,
)
from metareview.plots.export import svg_bytes
from metareview.plots.format import experimental_favoured_above, fmt_effect, fmt_num, tick_label
from metareview.plots.layout import ELLIPSIS
from metareview.review_labels import use_labels
from metareview.stats.pooling import pool
from metareview.tables import EFFECT_SIZE_COLUMNS


def synthetic_analysis(
    k: int, measure: str = "MD", *, seed: int = 0, higher_is_better: bool = False, label=None
):
    """SYNTHETIC effect-size rows of one analysis and its pooled row (not real studies)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(k):
        n1, n2 = (int(v) for v in rng.integers(10, 60, 2))
        if measure in ("RR", "OR"):
            e1, e2 = int(rng.integers(1, n1 // 2)), int(rng.integers(1, n2 // 2))
            yi = math.log((e1 / n1) / (e2 / n2))
            vi = 1 / e1 - 1 / n1 + 1 / e2 - 1 / n2
            arm = dict(exp_events=e1, ctl_events=e2, data_kind="binary")
        else:
            m1, m2 = rng.normal(3, 1), rng.normal(4, 1)
            s1, s2 = rng.uniform(1, 2, 2)
            yi, vi = m1 - m2, s1**2 / n1 + s2**2 / n2
            arm = dict(exp_mean=m1, exp_sd=s1, ctl_mean=m2, ctl_sd=s2, data_kind="continuous")
        se = math.sqrt(vi)
        rows.append(
            dict(
                condition="synthetic_condition",
                study_id=f"syn{i:02d}",
                outcome="pain_intensity",
                timepoint_weeks=1.0,
                measure=measure,
                yi=yi,
                vi=vi,
                sei=se,
                ci_low=yi - 1.959964 * se,
                ci_high=yi + 1.959964 * se,
                included=True,
                exclusion_reason="",
                label=label or f"Synthetic {chr(65 + i % 26)}{i}",
                year=2000 + (i * 7) % 20,
                design="parallel",
                higher_is_better=higher_is_better,
                exp_n=n1,
                ctl_n=n2,
                continuity_correction=False,
                assumptions="",
                conversions="",
                outcome_label="pain intensity (synthetic)",
                timepoint_label="week 1",
                **arm,
            )
        )
    effects = pd.DataFrame(rows).reindex(columns=EFFECT_SIZE_COLUMNS)
    res = pool(effects["yi"], effects["vi"], measure=measure, tau2_method="REML", ci_method="hksj")
    pooled = res.to_dict() | dict(
        condition="synthetic_condition",
        outcome="pain_intensity",
        timepoint_weeks=1.0,
        higher_is_better=higher_is_better,
        analysis_id="synthetic_condition--pain_intensity--w1",
    )
    return effects, pooled


def text_layers(p: ggplot) -> pd.DataFrame:
    """All text drawn by geom_text layers (labels with x, y)."""
    frames = [layer.geom.data for layer in p.layers if type(layer.geom).__name__ == "geom_text"]
    return pd.concat(frames, ignore_index=True)


def text_x(p: ggplot, label: str) -> float:
    texts = text_layers(p)
    return float(texts.loc[texts["label"] == label, "x"].iloc[0])


class TestForest:
    def test_one_row_per_study_in_year_label_order_with_weights(self):
        effects, pooled = synthetic_analysis(7, seed=1)
        p = forest_plot(effects, pooled)
        assert len(p.data) == 7
        assert list(p.data["year"]) == sorted(p.data["year"])
        assert p.data["weight"].sum() == pytest.approx(100.0)
        expected = 1 / (effects["vi"] + pooled["tau2"])
        expected = 100 * expected / expected.sum()
        got = p.data.set_index("study_id")["weight"]
        assert got.loc[effects["study_id"]].to_numpy() == pytest.approx(expected.to_numpy())

    def test_layers_square_diamond_pi_and_notes(self):
        effects, pooled = synthetic_analysis(6, seed=2)
        p = forest_plot(effects, pooled)
        kinds = [type(layer.geom).__name__ for layer in p.layers]
        assert "geom_rect" in kinds  # squares
        assert "geom_polygon" in kinds  # diamond
        assert kinds.count("geom_segment") >= 4  # rules, null line, CIs, axis, PI
        labels = set(text_layers(p)["label"])
        assert "Prediction interval" in labels
        assert any(t.startswith("Heterogeneity: τ² =") for t in labels)
        assert any(t.startswith("Test for overall effect: t =") for t in labels)
        rects = next(
            layer.geom.data for layer in p.layers if type(layer.geom).__name__ == "geom_rect"
        )
        assert len(rects) == 6

    def test_k1_says_not_pooled(self):
        effects, pooled = synthetic_analysis(1, seed=3)
        p = forest_plot(effects, pooled)
        labels = set(text_layers(p)["label"])
        assert "not pooled (k = 1)" in labels
        assert "Prediction interval" not in labels
        assert not any(type(layer.geom).__name__ == "geom_polygon" for layer in p.layers)
        p.draw()

    def test_k2_has_no_prediction_interval(self):
        effects, pooled = synthetic_analysis(2, "RR", seed=4, higher_is_better=True)
        labels = set(text_layers(forest_plot(effects, pooled))["label"])
        assert "not estimable (k < 3)" in labels

    def test_k40_with_long_labels_renders_and_truncates(self):
        effects, pooled = synthetic_analysis(40, seed=5, label="A" * 20 + " very long label " * 5)
        p = forest_plot(effects, pooled)
        assert len(p.data) == 40
        study_texts = [t for t in text_layers(p)["label"] if t.startswith("AAAA")]
        assert len(study_texts) == 40 and all(t.endswith(ELLIPSIS) for t in study_texts)
        p.draw()

    def test_label_with_line_breaks_and_tabs_is_one_line(self):
        # a quoted CSV cell may hold a line break (Alt+Enter in a spreadsheet)
        effects, pooled = synthetic_analysis(2, seed=6, label="Synthetic\nA\r\n2001\tx")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "Glyph 10 missing from font(s)" when measuring
            labels = list(text_layers(forest_plot(effects, pooled))["label"])
        assert labels.count("Synthetic A 2001 x") == 2
        assert not any(c in t for t in labels for c in "\n\r\t")

    def test_height_helper_matches_the_plot(self):
        for k in (1, 3, 13):
            effects, pooled = synthetic_analysis(k, seed=k)
            _, height = figure_size(forest_plot(effects, pooled))
            assert height == pytest.approx(forest_height(k)) or height == pytest.approx(
                forest_height(k, notes_below=True)
            )
        assert forest_height(40) > forest_height(13) > forest_height(1)

    def test_ratio_axis_is_logarithmic_with_natural_labels(self):
        effects, pooled = synthetic_analysis(8, "RR", seed=6, higher_is_better=True)
        p = forest_plot(effects, pooled)
        texts = text_layers(p)
        candidates = texts[texts["label"].isin(["0.1", "0.2", "0.5", "1", "2", "5", "10"])]
        tick_y = candidates.groupby("y")["label"].nunique().idxmax()  # the row of tick labels
        ticks = candidates[candidates["y"] == tick_y].assign(v=lambda d: d["label"].astype(float))
        assert len(ticks) >= 3
        slope = np.polyfit(np.log(ticks["v"]), ticks["x"], 1)
        assert np.allclose(np.polyval(slope, np.log(ticks["v"])), ticks["x"])

    @pytest.mark.parametrize(
        ("measure", "higher_is_better", "exp_side"),
        [
            ("MD", False, "left"),
            ("SMD", True, "left"),
            ("RR", True, "right"),
            ("RR", False, "left"),
            ("OR", True, "right"),
        ],
    )
    def test_favours_labels_on_the_right_sides(self, measure, higher_is_better, exp_side):
        effects, pooled = synthetic_analysis(4, measure, seed=7, higher_is_better=higher_is_better)
        labels = {"intervention": "drug X", "favours_labels": {"control": "Favours placebo"}}
        with use_labels(labels):
            p = forest_plot(effects, pooled)
        null_x = text_x(p, "1" if measure in ("RR", "OR") else "0")
        ket, ctl = text_x(p, "Favours drug X"), text_x(p, "Favours placebo")
        if exp_side == "left":
            assert ket < null_x < ctl
        else:
            assert ctl < null_x < ket
        assert experimental_favoured_above(measure, higher_is_better) == (exp_side == "right")

    def test_excluded_rows_are_listed_as_not_estimable(self):
        effects, pooled = synthetic_analysis(3, "RR", seed=8, higher_is_better=True)
        extra = effects.iloc[[0]].assign(
            study_id="syn_zero",
            label="Zero events",
            included=False,
            yi=np.nan,
            vi=np.nan,
            exclusion_reason="no events in either arm",
        )
        p = forest_plot(pd.concat([effects, extra], ignore_index=True), pooled)
        assert len(p.data) == 4
        assert "Not estimable" in set(text_layers(p)["label"])

    def test_svg_bytes_are_reproducible_and_escape_markup(self):
        effects, pooled = synthetic_analysis(3, seed=9, label="<script>alert(1)</script> --> $x$")
        first = svg_bytes(forest_plot(effects, pooled))
        second = svg_bytes(forest_plot(effects, pooled))
        assert first == second
        assert b"<script" not in first
        assert b"&lt;script&gt;" in first  # Matplotlib writes the text into an escaped comment


class TestOtherPlots:
    def test_funnel_contours_filled_points_and_log_axis(self):
        effects, pooled = synthetic_analysis(10, "OR", seed=10)
        filled = pd.DataFrame({"yi": [-1.5, -1.2], "vi": [0.4, 0.3]})
        p = funnel_plot(effects, pooled, filled=filled, small_study={"egger_p": 0.2})
        regions = next(
            lay.geom.data for lay in p.layers if type(lay.geom).__name__ == "geom_polygon"
        )
        assert set(regions["region"]) == {
            "p < 0.01",
            "0.01 < p < 0.05",
            "0.05 < p < 0.10",
            "p > 0.10",
        }
        points = [lay.geom.data for lay in p.layers if type(lay.geom).__name__ == "geom_point"]
        assert sorted(len(d) for d in points) == [2, 10]
        x_scale = next(s for s in p.scales if "x" in s.aesthetics)
        assert type(x_scale).__name__ == "scale_x_log10"
        p.draw()

    def test_funnel_of_a_ratio_beyond_the_floating_point_range_counts_what_is_not_drawn(self):
        effects, pooled = synthetic_analysis(4, "OR", seed=11)
        effects.loc[0, "yi"] = 800.0  # exp() overflows past e^709
        pooled = pooled | {"estimate": 750.0, "ci_low": 700.5, "ci_high": 799.5}
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no silent overflow to inf
            p = funnel_plot(effects, pooled)
        p.draw()
        points = [lay.geom.data for lay in p.layers if type(lay.geom).__name__ == "geom_point"]
        assert sorted(len(d) for d in points) == [0, 3]
        assert all(np.isfinite(d["x"]).all() for d in points)
        lines = [lay for lay in p.layers if type(lay.geom).__name__ == "geom_vline"]
        assert len(lines) == 1  # the null line only; the estimate has no place on the axis
        assert "1 point beyond e^±700 not drawn" in p.labels.subtitle
        assert "the estimate lies outside the axis" in p.labels.subtitle
        assert "(dashed line)" not in p.labels.subtitle

    def test_timecourse(self):
        rows = []
        for i, week in enumerate((0.0, 1.0, 4.0)):
            _, pooled = synthetic_analysis(3 + i, seed=20 + i)
            rows.append(pooled | {"timepoint_weeks": week})
        p = timecourse_plot(pd.DataFrame(rows))
        assert list(p.data["timepoint_weeks"]) == [0.0, 1.0, 4.0]
        p.draw()

    def test_timecourse_of_a_ratio_beyond_the_floating_point_range_is_cut(self):
        rows = []
        for i, week in enumerate((12.0, 52.0)):
            _, pooled = synthetic_analysis(2, "OR", seed=50 + i)
            rows.append(pooled | {"timepoint_weeks": week})
        rows[0] |= {"ci_low": -880.0, "ci_high": 866.0}  # a 99% HKSJ CI with k = 2
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow in exp()
            p = timecourse_plot(pd.DataFrame(rows))
            p.draw()
        assert np.isfinite(p.data[["lo", "hi"]]).all(axis=None)
        assert "CI (blue, cut at the edge)" in p.labels.subtitle

    def test_overview_shows_missing_conditions_as_no_data(self):
        _, a = synthetic_analysis(4, seed=30)
        _, b = synthetic_analysis(1, "RR", seed=31, higher_is_better=True)
        b = b | {"condition": "other_condition", "outcome": "responders_50"}
        p = overview_plot(
            pd.DataFrame([a, b]), ["synthetic_condition", "other_condition", "empty_condition"]
        )
        labels = set(text_layers(p)["label"])
        assert {"Empty condition", "no data", "Synthetic condition"} <= labels
        p.draw()

    def test_overview_without_pooled_rows_names_the_configured_level(self):
        # make fuzz (2026-11-23): level 0.5, nothing poolable: the heading said "95% CI".
        _, a = synthetic_analysis(4, seed=30)
        empty = pd.DataFrame([a]).iloc[0:0]
        headings = set(text_layers(overview_plot(empty, ["crps"], level=0.5))["label"])
        assert "Estimate [50% CI]" in headings and "Estimate [95% CI]" not in headings
        level_90 = pd.DataFrame([a | {"level": 0.9}])  # rows with a level: their own level
        assert "Estimate [90% CI]" in set(text_layers(overview_plot(level_90, level=0.5))["label"])

    def test_subgroup_loo_and_bubble(self):
        effects, pooled = synthetic_analysis(6, seed=40)
        sg = pd.DataFrame(
            {
                "subgroup": "route",
                "level": ["iv", "oral"],
                "k": [4, 2],
                "estimate": [-1.0, -0.2],
                "se": [0.2, 0.4],
                "ci_low": [-1.4, -1.0],
                "ci_high": [-0.6, 0.6],
                "tau2": [0.1, 0.0],
                "i2": [30.0, 0.0],
            }
        )
        p = subgroup_forest_plot(sg, pooled, {"q_between": 3.2, "df": 1, "p_value": 0.07})
        assert "Test for subgroup differences: Q = 3.20, df = 1 (P = 0.07)" in set(
            text_layers(p)["label"]
        )
        p.draw()
        loo = pd.DataFrame(
            {
                "omitted": effects["study_id"],
                "estimate": -0.5,
                "se": 0.2,
                "ci_low": -0.9,
                "ci_high": -0.1,
                "p_value": 0.02,
                "tau2": 0.1,
                "i2": 20.0,
            }
        )
        p = loo_forest_plot(
            loo, pooled, labels=dict(zip(effects["study_id"], effects["label"], strict=True))
        )
        assert len(p.data) == 6
        p.draw()
        effects["dose_mg_kg"] = np.linspace(0.1, 0.6, 6)
        row = {
            "measure": "MD",
            "intercept": -0.5,
            "slope": -0.4,
            "slope_ci_low": -1.0,
            "slope_ci_high": 0.2,
            "slope_p": 0.2,
            "tau2": 0.05,
            "r2": 10.0,
        }
        p = bubble_plot(effects, "dose_mg_kg", row)
        assert len(p.data) == 6
        p.draw()


def test_multilevel_course_over_a_ten_thousandth_of_a_week_is_drawn():
    # make fuzz (2026-11-22): timepoints 0 and 1e-4 weeks with a linear time moderator left
    # the minor breaks to mizani, which failed ("index 0 is out of bounds") on that range
    from metareview.plots.multilevel_course import multilevel_course_plot

    base = {"condition": "c", "outcome": "o", "measure": "HR", "time_moderator": "weeks",
            "level": 0.95}  # fmt: skip
    weeks = np.linspace(0.0, 1e-4, 5)
    course = pd.DataFrame(
        [base | {"kind": "curve", "weeks": w, "estimate": -0.4 + 2e4 * w, "ci_low": -2.9,
                 "ci_high": 2.0 + 1e4 * w, "robust_ci_low": -3.2, "robust_ci_high": 2.3}
         for w in weeks]
    )  # fmt: skip
    effects = pd.DataFrame({"study_id": ["a", "a", "b", "b"], "timepoint_weeks": [0, 1e-4] * 2,
                            "yi": [0.0, 3.86, -1.96, 2.76], "higher_is_better": False})  # fmt: skip
    p = multilevel_course_plot(effects, course)
    p.draw()
    y_scale = next(s for s in p.scales if "y" in s.aesthetics)
    assert len(y_scale.breaks) >= 2 and list(y_scale.minor_breaks) == []


def test_tick_labels_of_ratios_past_a_floats_range_say_infinity():
    assert tick_label(math.log(2.5), "OR") == "2.5"
    assert tick_label(837.0, "OR") == "∞" and tick_label(-837.0, "RR") == "0"
    assert tick_label(float("nan"), "MD") == ""


def test_huge_and_tiny_ticks_and_numbers_are_written_in_scientific_notation():
    assert tick_label(700.0, "OR") == "1e+304"  # not 305 digits
    assert tick_label(-700.0, "OR") == "9.86e−305"  # not 0
    assert tick_label(math.log(1e-10), "RR") == "1e−10"
    assert (
        tick_label(math.log(1e6), "OR") == "1e+06" and tick_label(math.log(1e5), "OR") == "100000"
    )
    assert tick_label(-2e6, "MD") == "−2e+06" and tick_label(-3.0, "MD") == "−3"
    assert fmt_num(1.6e304) == "1.60e+304" and fmt_num(-2e9, minus="−") == "−2.00e+09"
    assert fmt_num(999_999_999.123) == "999999999.12"
    assert fmt_effect(750.0, 700.5, 799.5, "OR") == "∞ [1.67e+304, ∞]"
