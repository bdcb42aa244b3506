"""Risk-of-bias figures as the R package robvis draws them (RoB 2).

:func:`traffic_light_plot` — one row per study, one column per domain D1–D5 and Overall, a
coloured symbol per judgement (+ low, ! some concerns, − high, ? not assessed), the domain
names in the caption. :func:`summary_plot` — per domain, the share of the analysis' weight at
each judgement (robvis ``rob_summary(weighted = TRUE)``), horizontal stacked bars.
"""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_blank,
    geom_col,
    geom_point,
    geom_text,
    ggplot,
    labs,
    scale_fill_manual,
    scale_y_continuous,
    theme,
)

from metareview.certainty.risk_of_bias import DOMAIN_NAMES, JUDGED, LEVELS, weight_shares
from metareview.plots.theme import THEME

#: robvis colours (low, some concerns, high) and grey for "not assessed".
COLOURS = {
    "low": "#02C100",
    "some_concerns": "#E2DF07",
    "high": "#BF0000",
    "not_assessed": "#BDBDBD",
}
SYMBOLS = {"low": "+", "some_concerns": "!", "high": "−", "not_assessed": "?"}
WORDS = {
    "low": "Low",
    "some_concerns": "Some concerns",
    "high": "High",
    "not_assessed": "Not assessed",
}
AXIS = {d: ("Overall" if d == "overall" else d.upper()) for d in JUDGED}
_NAMED = [f"{AXIS[d]}: {DOMAIN_NAMES[d]}" for d in JUDGED if d != "overall"]
CAPTION = "; ".join(_NAMED[:2]) + ";\n" + "; ".join(_NAMED[2:4]) + ";\n" + _NAMED[4]


def _fill_scale():
    return scale_fill_manual(
        values=[COLOURS[lv] for lv in LEVELS],
        limits=list(LEVELS),
        labels=[WORDS[lv] for lv in LEVELS],
        name="Judgement",
        drop=False,
    )


def traffic_light_data(judged: pd.DataFrame) -> pd.DataFrame:
    """Tidy ``study, domain, judgement, symbol`` from rows with ``label`` and ``d1 … overall``.

    Rows are de-duplicated by label and judgements; a study judged differently for different
    outcomes gets one row per outcome (``Label · outcome``).
    """
    frame = judged.copy()
    if "label" not in frame:
        frame["label"] = frame["study_id"]
    if "outcome" not in frame:
        frame["outcome"] = ""
    frame = frame.drop_duplicates(["study_id", *JUDGED])
    counts = frame.groupby("study_id")["study_id"].transform("size")
    frame["study"] = [
        f"{lab} · {out}" if n > 1 else str(lab)
        for lab, out, n in zip(frame["label"], frame["outcome"], counts, strict=True)
    ]
    frame = frame.drop_duplicates("study")
    first = {sid: i for i, sid in reversed(list(enumerate(frame["study_id"])))}
    frame = frame.assign(_first=frame["study_id"].map(first)).sort_values(
        ["_first", "outcome"], kind="mergesort"
    )
    long = frame.melt(id_vars=["study"], value_vars=list(JUDGED), var_name="d", value_name="j")
    long["domain"] = pd.Categorical(long["d"].map(AXIS), categories=[AXIS[d] for d in JUDGED])
    long["judgement"] = pd.Categorical(long["j"], categories=list(LEVELS))
    long["symbol"] = long["j"].map(SYMBOLS)
    order = list(dict.fromkeys(frame["study"]))
    long["study"] = pd.Categorical(long["study"], categories=order[::-1])
    return long[["study", "domain", "judgement", "symbol"]].reset_index(drop=True)


def traffic_light_plot(judged: pd.DataFrame, title: str = "Risk of bias (RoB 2)") -> ggplot:
    """robvis-style traffic-light plot; ``p.data`` is :func:`traffic_light_data`."""
    data = traffic_light_data(judged)
    n = data["study"].nunique()
    return (
        ggplot(data, aes("domain", "study"))
        + geom_point(aes(fill="judgement"), size=7, shape="o", color="#4d4d4d", stroke=0.3)
        + geom_text(aes(label="symbol"), size=9, fontweight="bold", color="#1a1a1a")
        + _fill_scale()
        + labs(x="", y="", title=title, caption=CAPTION)
        + THEME
        + theme(
            figure_size=(7.2, 1.6 + 0.32 * n),
            panel_grid_major=element_blank(),
            axis_ticks=element_blank(),
        )
    )


def summary_data(rows: pd.DataFrame) -> pd.DataFrame:
    """Weight shares per domain × judgement (percent; each domain sums to 100)."""
    shares = weight_shares(rows, rows["weight"])
    shares["domain"] = pd.Categorical(
        shares["domain"].map(
            lambda d: f"{AXIS[d]} {DOMAIN_NAMES[d]}" if d != "overall" else "Overall"
        ),
        categories=[
            f"{AXIS[d]} {DOMAIN_NAMES[d]}" if d != "overall" else "Overall" for d in JUDGED
        ][::-1],
    )
    shares["judgement"] = pd.Categorical(shares["judgement"], categories=list(LEVELS)[::-1])
    return shares


def summary_plot(rows: pd.DataFrame, title: str) -> ggplot:
    """robvis weighted summary bar chart of one analysis (``rows``: its studies and weights)."""
    data = summary_data(rows)
    return (
        ggplot(data, aes("domain", "weight", fill="judgement"))
        + geom_col(width=0.7, color="#4d4d4d", size=0.2)
        + coord_flip()
        + _fill_scale()
        + scale_y_continuous(limits=(0, 100.0001), breaks=[0, 25, 50, 75, 100], expand=(0, 0))
        + labs(x="", y="Share of the analysis' weight (%)", title=title)
        + THEME
        + theme(figure_size=(7.2, 3.2))
    )


__all__ = ["COLOURS", "summary_plot", "traffic_light_plot"]
