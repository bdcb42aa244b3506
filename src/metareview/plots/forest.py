"""Forest plot of one analysis, to the standard of RevMan 5 and R meta ``layout="RevMan5"``.

One row per study (year, then label), arm data and the study effect as text, random-effects
weights, squares sized by weight, the random-effects diamond, the prediction interval, the
heterogeneity line and the test for the overall effect. Studies of the analysis that could not
be estimated (e.g. zero events in both arms) are listed as "Not estimable", as RevMan does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from plotnine import ggplot

from metareview.plots.format import (
    MEASURE_NAMES,
    MINUS,
    as_bool,
    experimental_favoured_above,
    fmt_effect,
    fmt_int,
    fmt_num,
    fmt_p,
    humanize,
    is_missing,
    level_percent,
)
from metareview.plots.layout import (
    BODY_Y,
    MARGIN_IN,
    Column,
    TablePlot,
    choose_axis,
    text_width_in,
)
from metareview.plots.theme import MUTED
from metareview.review_labels import current_labels
from metareview.tables import BINARY_MEASURES

LABEL_MAX_IN = 2.3
GAP_ROWS = 0.5  # space between the last study and the total row
NOTE_ROWS = 1.0
AXIS_BLOCK_ROWS = 2.7  # axis line, tick labels, favours labels, bottom padding


def _get(row, key, default=math.nan):
    value = row.get(key, default) if hasattr(row, "get") else default
    return default if value is None else value


def sort_studies(studies: pd.DataFrame) -> pd.DataFrame:
    """Year, then label, then study id: the order of the rows in every forest plot."""
    keys = [c for c in ("year", "label", "study_id") if c in studies]
    return studies.sort_values(keys, kind="mergesort", na_position="last").reset_index(drop=True)


def random_effects_weights(vi, tau2) -> np.ndarray:
    """Percent weights 1/(vi + tau²), normalised to 100 (tau² missing → 0, k = 1 → 100)."""
    vi = np.asarray(vi, dtype=float)
    t = 0.0 if is_missing(tau2) else float(tau2)
    w = 1.0 / (vi + t)
    return 100.0 * w / w.sum() if w.size else w


def arm_column(values: pd.Series) -> list[str]:
    """Means or SDs with the same number of decimals down a column (0 or 2), as RevMan."""
    numbers = pd.to_numeric(values, errors="coerce")
    finite = numbers.dropna()
    whole = bool(len(finite)) and bool(np.allclose(finite, finite.round()))
    return ["" if is_missing(v) else fmt_num(v, 0 if whole else 2, MINUS) for v in numbers]


def arm_kind(studies: pd.DataFrame, measure: str) -> str:
    """Which arm columns the table shows: ``binary``, ``continuous`` or ``none``."""
    kinds = set(studies.get("data_kind", pd.Series(dtype=str)).dropna().astype(str))
    if "binary" in kinds or (not kinds and measure in BINARY_MEASURES):
        return "binary"
    if "continuous" in kinds or "single_arm" in kinds:
        return "continuous"
    return "none"


def forest_rows(k: int, *, binary: bool = False, excluded: int = 0) -> dict[str, float]:
    """Row positions (body rows, 0 = first study) of the parts below the studies."""
    last_study = k + excluded - 1
    total = last_study + 1 + GAP_ROWS
    rows = {"total": total}
    nxt = total + 1
    if binary:
        rows["events"] = nxt
        nxt += 1
    if k >= 2:
        rows["pi"] = nxt
        nxt += 1
    rows["last"] = nxt - 1
    return rows


def forest_height(
    k: int, *, binary: bool = False, excluded: int = 0, notes: int = 2, notes_below=False
) -> float:
    """Figure height (inches) of :func:`forest_plot` for k studies.

    The exact size of a built plot is ``metareview.plots.layout.figure_size(p)``; this helper
    lets a caller plan the page (it gives the same value for the default layout).
    """
    from metareview.plots.layout import ROW_IN

    rows = forest_rows(k, binary=binary, excluded=excluded)
    axis_y = BODY_Y + rows["last"] + 0.75
    bottom = axis_y + AXIS_BLOCK_ROWS
    if notes_below:
        bottom += notes * NOTE_ROWS + 0.3
    else:
        bottom = max(bottom, axis_y + 0.6 + notes * NOTE_ROWS + 0.4)
    return bottom * ROW_IN


def heterogeneity_text(pooled) -> str:
    """``Heterogeneity: τ² = 0.12 [0.00, 0.80] (REML); Q = 15.6, df = 12 (P = 0.21); I² = 23%``."""
    k = int(_get(pooled, "k", 0))
    if k < 2:
        return "Heterogeneity: not applicable (single study)"
    tau2 = fmt_num(_get(pooled, "tau2"), 2 if float(_get(pooled, "tau2", 0)) >= 0.01 else 4)
    method = _get(pooled, "tau2_method", "")
    q = fmt_num(_get(pooled, "q"), 2)
    df = fmt_int(_get(pooled, "q_df"))
    i2 = fmt_num(_get(pooled, "i2"), 0)
    p = fmt_p(_get(pooled, "q_p"))
    text = f"Heterogeneity: τ² = {tau2} ({method}); Q = {q}, df = {df} ({p}); I² = {i2}%"
    return text.replace("-", MINUS)


def overall_text(pooled) -> str:
    """``Test for overall effect: Z = 2.10 (P = 0.04)``, or t with df for HKSJ intervals."""
    k = int(_get(pooled, "k", 0))
    if k < 2:
        return "Test for overall effect: not pooled (k = 1); the study's own estimate is shown"
    est, se = float(_get(pooled, "estimate")), float(_get(pooled, "se"))
    stat = est / se if se > 0 else math.nan
    p = fmt_p(_get(pooled, "p_value"))
    if str(_get(pooled, "ci_method", "z")) == "hksj":
        text = (
            f"Test for overall effect: t = {fmt_num(stat, 2)}, df = {k - 1} ({p}; Hartung–Knapp)"
        )
    else:
        text = f"Test for overall effect: Z = {fmt_num(stat, 2)} ({p})"
    return text.replace("-", MINUS)


def favours_labels(measure: str, higher_is_better) -> tuple[str, str]:
    """(left, right) labels under the axis."""
    ket, ctl = current_labels().favours
    return (ctl, ket) if experimental_favoured_above(measure, higher_is_better) else (ket, ctl)


def default_title(pooled) -> str:
    """``CRPS · Pain intensity · week 1`` from the analysis keys."""
    from metareview.plots.format import fmt_weeks

    parts = [
        humanize(_get(pooled, "condition", "")),
        humanize(_get(pooled, "outcome", "")),
        fmt_weeks(_get(pooled, "timepoint_weeks")),
    ]
    return " · ".join(p for p in parts if p)


def forest_plot(
    studies: pd.DataFrame,
    pooled_row,
    *,
    title: str | None = None,
    experimental: str | None = None,
    control: str | None = None,
) -> ggplot:
    """Forest plot of one analysis.

    Parameters
    ----------
    studies : DataFrame
        The analysis' rows of ``effect_sizes.csv`` (``metareview.tables.EFFECT_SIZE_COLUMNS``);
        rows with ``included`` False are shown as "Not estimable".
    pooled_row : Series or dict
        The analysis' row of ``pooled.csv``.
    title : str, optional
        Line above the table; defaults to condition · outcome · timepoint.

    Returns
    -------
    ggplot
        ``p.data`` holds one row per study (with ``weight`` in percent, ``row`` position);
        the figure size is set in the plot's theme (see ``layout.figure_size``).
    """
    pooled = dict(pooled_row)
    measure = str(pooled["measure"])
    k = int(pooled["k"])
    level_pct = level_percent(_get(pooled, "level"))
    df = studies.copy()
    if "measure" in df:
        df = df[df["measure"].astype(str) == measure]
    inc = df["included"].map(as_bool) if "included" in df else pd.Series(True, index=df.index)
    df = df.assign(included=inc)
    df = sort_studies(df)
    included = df[df["included"]]
    if len(included) != k:
        raise ValueError(f"pooled row says k = {k} but {len(included)} included studies given")
    weights = pd.Series(np.nan, index=df.index)
    weights[included.index] = random_effects_weights(included["vi"], _get(pooled, "tau2"))
    df["weight"] = weights
    df["row"] = np.arange(len(df), dtype=float)
    kind = arm_kind(included if len(included) else df, measure)
    binary = kind == "binary"
    name = MEASURE_NAMES.get(measure, measure)
    model = f"IV, Random, {level_pct}% CI"

    columns = [Column("label", "Study", max_in=LABEL_MAX_IN)]
    labels = current_labels()
    exp_g = experimental or labels.experimental_heading
    ctl_g = control or labels.control_heading
    if binary:
        columns += [
            Column("exp_events", "Events", "right", exp_g),
            Column("exp_n", "Total", "right", exp_g),
            Column("ctl_events", "Events", "right", ctl_g),
            Column("ctl_n", "Total", "right", ctl_g),
        ]
    elif kind == "continuous":
        columns += [
            Column("exp_mean", "Mean", "right", exp_g),
            Column("exp_sd", "SD", "right", exp_g),
            Column("exp_n", "Total", "right", exp_g),
            Column("ctl_mean", "Mean", "right", ctl_g),
            Column("ctl_sd", "SD", "right", ctl_g),
            Column("ctl_n", "Total", "right", ctl_g),
        ]
    columns += [Column("weight", "Weight", "right"), Column("effect", model, "left", name)]
    rob_cols = rob_columns(df)
    columns += [Column(f"rob_{d}", ROB_HEADERS[d], "left", "Risk of bias") for d in rob_cols]

    # -- text cells ---------------------------------------------------------------------------
    cc = df.get("continuity_correction", pd.Series(False, index=df.index)).map(as_bool)
    crossover = df.get("design", pd.Series("", index=df.index)).astype(str).str.lower()
    crossover = crossover.str.startswith("crossover")
    body = pd.DataFrame({"row": df["row"]})
    labels = df.get("label", df.get("study_id"))
    body["label"] = [
        f"{'' if is_missing(lab) else lab}{' †' if c else ''}{' ‡' if x else ''}"
        for lab, c, x in zip(labels, cc, crossover, strict=True)
    ]
    for key in ("exp_events", "ctl_events", "exp_n", "ctl_n"):
        body[key] = [fmt_int(v).replace("-", MINUS) for v in df.get(key, [math.nan] * len(df))]
    for key in ("exp_mean", "exp_sd", "ctl_mean", "ctl_sd"):
        body[key] = arm_column(df.get(key, pd.Series(math.nan, index=df.index)))
    body["weight"] = [fmt_num(w, 1) + "%" if not is_missing(w) else "" for w in df["weight"]]
    body["effect"] = [
        fmt_effect(y, lo, hi, measure, MINUS) if ok else "Not estimable"
        for y, lo, hi, ok in zip(
            df["yi"], df["ci_low"], df["ci_high"], df["included"], strict=True
        )
    ]
    body["muted"] = ~df["included"]
    body["bold"] = False

    rows = forest_rows(k, binary=binary, excluded=len(df) - k)
    total = {"row": rows["total"], "bold": True, "muted": False}
    if k >= 2:
        total.update(
            label=f"Total ({level_pct}% CI)",
            weight="100.0%",
            effect=fmt_effect(
                pooled["estimate"], pooled["ci_low"], pooled["ci_high"], measure, MINUS
            ),
        )
    else:
        total.update(label=f"Total ({level_pct}% CI)", effect="not pooled (k = 1)", muted=True)
    for arm in ("exp_n", "ctl_n"):
        values = pd.to_numeric(included.get(arm), errors="coerce") if arm in included else None
        if values is not None and values.notna().any() and k >= 2:
            total[arm] = fmt_int(values.sum())
    extra = [total]
    if binary:
        ev = {"row": rows["events"], "label": "Total events", "bold": False, "muted": False}
        for arm in ("exp_events", "ctl_events"):
            values = pd.to_numeric(included.get(arm), errors="coerce")
            if values is not None and values.notna().any():
                ev[arm] = fmt_int(values.sum())
        extra.append(ev)
    if "pi" in rows:
        pi_text = (
            fmt_effect(
                pooled["estimate"], pooled["pi_low"], pooled["pi_high"], measure, MINUS
            ).split(" ", 1)[-1]
            if not is_missing(_get(pooled, "pi_low"))
            else "not estimable (k < 3)"
        )
        extra.append(
            {
                "row": rows["pi"],
                "label": "Prediction interval",
                "effect": pi_text,
                "bold": False,
                "muted": is_missing(_get(pooled, "pi_low")),
            }
        )
    body = pd.concat([body, pd.DataFrame(extra)], ignore_index=True)

    # -- axis ---------------------------------------------------------------------------------
    # The axis fits the studies and the summary CI; the prediction interval is included when
    # that widens the axis by at most half, else it is cut with arrows (with k = 3 it uses t(1)
    # and can be wider than every study).
    core = [pooled.get("ci_low"), pooled.get("ci_high"), pooled.get("estimate")]
    spread = list(included["ci_low"]) + list(included["ci_high"])
    left, right = favours_labels(measure, _get(pooled, "higher_is_better", False))
    axis = choose_axis(core, spread, measure, left, right, header=(name, model))
    pi = [v for v in (pooled.get("pi_low"), pooled.get("pi_high")) if not is_missing(v)]
    if pi and max(abs(float(v)) for v in pi) <= 1.5 * axis.hi:
        axis = choose_axis(core + pi, spread, measure, left, right, header=(name, model))

    tp = TablePlot(columns=columns, axis=axis, title=title or default_title(pooled))
    tp.fit_columns(body)
    tp.header()
    tp.cells(body)

    # -- graphics -----------------------------------------------------------------------------
    y_axis = BODY_Y + rows["last"] + 0.75
    null_x = tp.effect_x(0.0)
    tp.segment("null", null_x, BODY_Y - 0.6, null_x, y_axis)
    max_w = float(df["weight"].max()) if df["weight"].notna().any() else 100.0
    for _, st in df[df["included"]].iterrows():
        y = BODY_Y + st["row"]
        tp.interval(y, st["ci_low"], st["ci_high"])
        tp.square(y, st["yi"], st["weight"], max_w)
    if k >= 2:
        est = float(pooled["estimate"])
        if axis.lo <= est <= axis.hi:
            x = tp.effect_x(est)
            tp.segment("pooled", x, BODY_Y - 0.5, x, BODY_Y + rows["total"] - 0.45)
        tp.diamond(BODY_Y + rows["total"], est, pooled["ci_low"], pooled["ci_high"])
        if not is_missing(_get(pooled, "pi_low")):
            tp.interval(BODY_Y + rows["pi"], pooled["pi_low"], pooled["pi_high"], style="pi")
    tp.effect_axis(y_axis)

    # -- notes --------------------------------------------------------------------------------
    notes = [heterogeneity_text(pooled), overall_text(pooled)]
    if cc.any():
        notes.append("† 0.5 added to every cell of this study (zero events in one arm)")
    if crossover[df["included"]].any():
        notes.append(
            "‡ crossover trial analysed as if parallel groups (within-person correlation ignored)"
        )
    if rob_cols:
        notes += list(ROB_NOTE)
    fits_beside = max(text_width_in(n) for n in notes) <= tp.plot_x0 - MARGIN_IN - 0.3
    first = y_axis + 0.6 if fits_beside else y_axis + AXIS_BLOCK_ROWS
    for i, note in enumerate(notes):
        tp.text(MARGIN_IN, first + i * NOTE_ROWS, note, color=MUTED if k < 2 else "#1a1a1a")
    bottom = max(y_axis + AXIS_BLOCK_ROWS, first + len(notes) * NOTE_ROWS + 0.4)
    if not fits_beside:
        bottom = first + len(notes) * NOTE_ROWS + 0.3

    data = df.assign(row=df["row"])
    p = tp.build(data, bottom)
    if rob_cols:
        p = add_rob_dots(p, tp, df, rob_cols)
    return p


#: Column headers of the RevMan-style risk-of-bias dots (RoB 2 domains and overall).
ROB_HEADERS = {"d1": "D1", "d2": "D2", "d3": "D3", "d4": "D4", "d5": "D5", "overall": "O"}
ROB_NOTE = (
    "Risk of bias (RoB 2): D1 randomization, D2 deviations from intended interventions, "
    "D3 missing outcome data,",
    "D4 outcome measurement, D5 selection of the reported result, O overall; "
    "+ low, ! some concerns, − high, ? not assessed",
)


def rob_columns(df: pd.DataFrame) -> list[str]:
    """The RoB domains to show: all six when any study has a judgement (``rob_<domain>``)."""
    cols = [d for d in ROB_HEADERS if f"rob_{d}" in df]
    if len(cols) != len(ROB_HEADERS):
        return []
    values = df[[f"rob_{d}" for d in cols]].fillna("not_assessed").astype(str)
    return cols if (values != "not_assessed").to_numpy().any() else []


def add_rob_dots(p: ggplot, tp: TablePlot, df: pd.DataFrame, cols: list[str]) -> ggplot:
    """One coloured dot with its symbol per study × domain, centred in the domain columns."""
    from plotnine import aes, geom_point, geom_text

    from metareview.plots.rob import COLOURS, SYMBOLS

    dots = []
    for _, st in df.iterrows():
        for d in cols:
            value = st.get(f"rob_{d}")
            judgement = "not_assessed" if is_missing(value) else str(value)
            key = f"rob_{d}"
            dots.append(
                {
                    "x": tp.x_left[key] + tp.widths[key] / 2,
                    "y": -(BODY_Y + st["row"]),
                    "judgement": judgement,
                    "symbol": SYMBOLS.get(judgement, "?"),
                }
            )
    dots = pd.DataFrame(dots)
    for judgement, part in dots.groupby("judgement", sort=True):
        p += geom_point(
            aes("x", "y"),
            data=part,
            fill=COLOURS.get(str(judgement), COLOURS["not_assessed"]),
            color="#4d4d4d",
            shape="o",
            size=3.6,
            stroke=0.25,
        )
    p += geom_text(aes("x", "y", label="symbol"), data=dots, size=6, color="#1a1a1a")
    return p
