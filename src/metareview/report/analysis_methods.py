"""Methods text for analyses pooled differently from the config (``analyses.csv``): which
analyses used Mantel–Haenszel or Peto, a common-effect model, or another τ² estimator, and the
conventions profile. Appended to the report's methods by the render_report entry script."""

from __future__ import annotations

import pandas as pd

METHOD_NAMES = {"MH": "Mantel–Haenszel", "Peto": "Peto", "IV": "inverse-variance"}


def _names(rows: pd.DataFrame) -> str:
    labels = []
    for _, r in rows.iterrows():
        source = str(r.get("source_analysis", "") or "")
        source = "" if source == "nan" else source
        label = f"{r['condition']} · {r['outcome']}"
        labels.append(f"{label} (RevMan {source})" if source else label)
    shown = labels[:12]
    more = len(labels) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def analysis_methods(pooled: pd.DataFrame, conventions: str = "metafor") -> list[str]:
    """Paragraphs for the methods section ([] when every analysis follows the config)."""
    if pooled is None or pooled.empty:
        return []
    lines = []
    if "pooling_method" in pooled:
        for method in ("MH", "Peto"):
            rows = pooled[pooled["pooling_method"].astype(str) == method]
            if len(rows):
                lines.append(
                    f"{METHOD_NAMES[method]} pooling (as metafor's rma.mh / rma.peto; under "
                    "random effects, DerSimonian–Laird τ² from Q around the "
                    f"{METHOD_NAMES[method]} estimate, as RevMan 5): {_names(rows)}."
                )
    if "model" in pooled:
        rows = pooled[pooled["model"].astype(str) == "common"]
        if len(rows):
            lines.append(f"Common-effect model (summary = common effect): {_names(rows)}.")
    if conventions == "revman":
        lines.append(
            "RevMan conventions (config 'conventions: revman'): RevMan 5's SMD (approximate "
            "Hedges correction and variance), 0.5 added to zero-cell studies inside "
            "Mantel–Haenszel, RD estimated from the observed counts; see the README."
        )
    return lines
