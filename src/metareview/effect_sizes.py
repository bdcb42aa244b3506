"""Study-level effect sizes (yi, vi) from validated outcome rows, as ``metafor::escalc``.

Effects are experimental minus (or over) control. Continuous rows with
``higher_is_better = true`` are sign-flipped so that a negative effect always favours the
experimental arm; binary effects are never flipped. Validated against ``escalc`` in
``tests/unit/test_reference_metafor.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from metareview.conversions import ArmSummary, ConversionError, arm_summary, present
from metareview.tables import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    EFFECT_SIZE_COLUMNS,
    RATIO_MEASURES,
)

#: Smallest sampling variance pooled. Below it weights of ~1e12 and more make Q, I² and the
#: WLS fit numerically meaningless (a study with SD 1e-150 gave Q < 0); no clinical effect
#: size has such a variance (SMD needs n ≈ 10^12 per arm), so the row is excluded, with
#: this reason, instead.
VI_FLOOR = 1e-12
Z_95 = 1.959964  # the contract's constant for a generic row's SE from its 95% CI
ARM_FIELDS = ("n", "mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max")


class Exclusion(Exception):
    """The row's effect cannot be estimated; the message is the reason shown to reviewers."""


@dataclass(frozen=True)
class EffectOptions:
    """Analysis choices from ``config.yaml`` that shape effect sizes."""

    measure_continuous: str = "MD"
    measure_binary: str = "RR"
    harmonize_scale_to: float | None = None
    crossover_correlation: float | None = None
    level: float = 0.95

    @classmethod
    def from_config(cls, config: dict) -> EffectOptions:
        """The options a validated ``config.yaml`` sets."""
        return cls(
            measure_continuous=config["measure"]["continuous"],
            measure_binary=config["measure"]["binary"],
            harmonize_scale_to=config["harmonize_scale_to"],
            crossover_correlation=config["crossover_correlation"],
            level=config["level"],
        )


# --- continuous ------------------------------------------------------------------------


def hedges_correction(df: float) -> float:
    """Exact small-sample correction J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2))."""
    return math.exp(
        special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2)
    )


def continuous_effect(
    measure: str, e: ArmSummary, c: ArmSummary, n1: float, n2: float, r: float | None = None
) -> tuple[float, float]:
    """(yi, vi) for MD, SMD (Hedges' g, vtype "LS") or ROM (log ratio of means).

    ``r`` is a within-patient correlation for crossover trials (MD only): vi is reduced by
    2·r·sd1·sd2/n, the paired-analysis approximation of the Cochrane Handbook (23.2.7.3).
    """
    if measure == "MD":
        vi = e.sd**2 / n1 + c.sd**2 / n2
        if r is not None:
            vi -= 2 * r * e.sd * c.sd / min(n1, n2)
        return e.mean - c.mean, vi
    if measure == "SMD":
        df = n1 + n2 - 2
        sd_pooled = math.sqrt(((n1 - 1) * e.sd**2 + (n2 - 1) * c.sd**2) / df)
        if sd_pooled == 0:
            raise Exclusion("SMD undefined: both arms have SD 0")
        g = hedges_correction(df) * (e.mean - c.mean) / sd_pooled
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    if measure == "ROM":
        if e.mean <= 0 or c.mean <= 0:
            raise Exclusion("ratio of means needs positive means in both arms")
        yi = math.log(e.mean / c.mean)
        return yi, e.sd**2 / (n1 * e.mean**2) + c.sd**2 / (n2 * c.mean**2)
    raise ValueError(f"unknown continuous measure {measure!r}")


# --- binary ----------------------------------------------------------------------------


def binary_effect(
    measure: str, a: float, n1: float, c: float, n2: float
) -> tuple[float, float, bool]:
    """(yi, vi, corrected) for RR, OR (log scale) or RD from a 2×2 table.

    A study with a zero cell gets 0.5 added to all four cells. A study with no events (or
    only events) in both arms is excluded from RR and OR, as ``escalc(drop00=TRUE)``; it is
    kept for RD.
    """
    b, d = n1 - a, n2 - c
    if measure in ("RR", "OR") and ((a == 0 and c == 0) or (b == 0 and d == 0)):
        what = "no events" if a == 0 else "only events"
        raise Exclusion(f"{what} in both arms: {measure} not estimable (kept for RD)")
    corrected = min(a, b, c, d) == 0
    if corrected:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        n1, n2 = a + b, c + d
    if measure == "RR":
        return math.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2, corrected
    if measure == "OR":
        return math.log((a * d) / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, corrected
    if measure == "RD":
        p1, p2 = a / n1, c / n2
        return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2, corrected
    raise ValueError(f"unknown binary measure {measure!r}")


# --- generic ---------------------------------------------------------------------------


def generic_effect(row: pd.Series) -> tuple[float, float]:
    """(yi, vi) from a reported between-arm effect; ratio measures move to the log scale."""
    measure = row["effect_measure"]
    ratio = measure in RATIO_MEASURES
    scale = math.log if ratio else float
    yi = scale(row["effect"])
    if present(row.get("effect_se")):
        se = row["effect_se"]  # for ratio measures: the SE of the log ratio
    else:
        se = (scale(row["effect_ci_high"]) - scale(row["effect_ci_low"])) / (2 * Z_95)
    return yi, se**2


# --- rows ------------------------------------------------------------------------------


def _arm(row: pd.Series, prefix: str) -> dict:
    return {f: row.get(f"{prefix}_{f}") for f in ARM_FIELDS}


def _rescale(arm: ArmSummary, row: pd.Series, to: float) -> tuple[ArmSummary, bool]:
    lo, hi = row.get("scale_min"), row.get("scale_max")
    if not (present(lo) and present(hi)):
        return arm, False
    if lo == 0 and hi == to:
        return arm, False
    factor = to / (hi - lo)
    return ArmSummary((arm.mean - lo) * factor, arm.sd * factor, arm.source, arm.conversion), True


def analysis_measure(row: pd.Series, options: EffectOptions) -> str:
    """The measure a row is analysed with: the configured one, or a generic row's own."""
    kind = row["data_kind"]
    if kind == "generic":
        measure = row["effect_measure"]
        if measure in CONTINUOUS_MEASURES:
            return options.measure_continuous
        if measure in BINARY_MEASURES:
            return options.measure_binary
        return measure  # HR: analysed on its own
    if kind == "binary" or (kind == "single_arm" and present(row.get("exp_events"))):
        return options.measure_binary
    return options.measure_continuous


def row_effect(row: pd.Series, options: EffectOptions) -> dict:
    """Effect size and provenance for one validated outcome row (never raises Exclusion)."""
    out = {
        "measure": analysis_measure(row, options),
        "yi": np.nan,
        "vi": np.nan,
        "included": False,
        "exclusion_reason": "",
        "conversions": [],
        "continuity_correction": False,
        "sign_flipped": False,
        "exp_dispersion_source": "",
        "ctl_dispersion_source": "",
        "plausibility_warnings": [],
    }
    assumptions = [row["assumptions"]] if present(row.get("assumptions")) else []
    try:
        kind = row["data_kind"]
        if kind == "single_arm":
            raise Exclusion("single-arm data: shown descriptively, never pooled against a control")
        if row.get("design") == "crossover":
            if options.crossover_correlation is None or kind != "continuous":
                assumptions.append("crossover trial analysed as parallel groups")
            elif out["measure"] != "MD":
                assumptions.append(
                    "crossover trial analysed as parallel groups (r used for MD only)"
                )
        if kind == "continuous":
            _continuous_row(row, options, out, assumptions)
        elif kind == "binary":
            yi, vi, corrected = binary_effect(
                out["measure"], row["exp_events"], row["exp_n"], row["ctl_events"], row["ctl_n"]
            )
            out.update(yi=yi, vi=vi, continuity_correction=corrected)
            if corrected:
                out["conversions"].append("0.5 added to all cells (zero cell)")
        else:
            _generic_row(row, options, out)
        if not (math.isfinite(out["yi"]) and math.isfinite(out["vi"]) and out["vi"] > 0):
            raise Exclusion("effect size or its variance is not finite and positive")
        if out["vi"] < VI_FLOOR:
            raise Exclusion(
                f"variance {out['vi']:.3g} is below the floor {VI_FLOOR:g}: numerically "
                "degenerate (an SD or SE far too small for its scale?)"
            )
        out["included"] = True
    except (Exclusion, ConversionError) as err:
        out["exclusion_reason"] = str(err)
        out["yi"] = out["vi"] = np.nan
    except OverflowError:  # e.g. an SD of 1e300 squared (issue 14)
        out["exclusion_reason"] = (
            "effect size or its variance is too large to compute (overflow): a number far "
            "too large for its scale?"
        )
        out["yi"] = out["vi"] = np.nan
    out["conversions"] = "; ".join(out["conversions"])
    out["plausibility_warnings"] = "; ".join(out["plausibility_warnings"])
    out["assumptions"] = "; ".join(a for a in assumptions if a)
    return out


#: An SD below this fraction of a bounded scale's range is implausibly small for pain data.
SMALL_SD_FRACTION = 0.1


def plausibility_warnings(arm: ArmSummary, row: pd.Series, prefix: str) -> list[str]:
    """Warnings for an arm SD that is implausible for its bounded scale (no effect on numbers).

    A reported SD below 10% of the scale range suggests the "±" was an SEM; an SD derived
    from an SE or CI that exceeds the whole range suggests the "±" was an SD.
    """
    lo, hi = row.get("scale_min"), row.get("scale_max")
    if not (present(lo) and present(hi)):
        return []
    width = hi - lo
    n = row[f"{prefix}_n"]
    if arm.source == "sd" and arm.sd < SMALL_SD_FRACTION * width:
        return [
            f"{prefix}: SD {arm.sd:g} is implausibly small for a {lo:g}–{hi:g} scale "
            f"(n = {n:g}): was the ± an SEM?"
        ]
    if arm.source in ("se", "ci") and arm.sd > width:
        return [
            f"{prefix}: SD {arm.sd:.3g} derived from the {arm.source.upper()} exceeds the "
            f"{lo:g}–{hi:g} scale range: was the ± an SD?"
        ]
    return []


def _continuous_row(row, options: EffectOptions, out: dict, assumptions: list) -> None:
    arms = {}
    for prefix in ("exp", "ctl"):
        arm = arm_summary(_arm(row, prefix))
        out["plausibility_warnings"].extend(plausibility_warnings(arm, row, prefix))
        out[f"{prefix}_dispersion_source"] = arm.source
        if arm.conversion:
            out["conversions"].append(f"{prefix}: {arm.conversion}")
        if out["measure"] == "MD" and options.harmonize_scale_to is not None:
            arm, rescaled = _rescale(arm, row, options.harmonize_scale_to)
            if rescaled and prefix == "exp":
                out["conversions"].append(
                    f"rescaled {row['scale_min']:g}–{row['scale_max']:g} to "
                    f"0–{options.harmonize_scale_to:g}"
                )
        arms[prefix] = arm
    r = options.crossover_correlation if row.get("design") == "crossover" else None
    if r is not None and out["measure"] == "MD":
        assumptions.append(f"crossover: within-patient correlation r = {r:g} (config)")
    yi, vi = continuous_effect(
        out["measure"], arms["exp"], arms["ctl"], row["exp_n"], row["ctl_n"], r
    )
    if row.get("higher_is_better") is True:
        yi = -yi
        out["sign_flipped"] = True
    out.update(
        yi=yi,
        vi=vi,
        exp_mean=arms["exp"].mean,
        exp_sd=arms["exp"].sd,
        ctl_mean=arms["ctl"].mean,
        ctl_sd=arms["ctl"].sd,
    )


def _generic_row(row, options: EffectOptions, out: dict) -> None:
    reported = row["effect_measure"]
    if reported != out["measure"]:
        raise Exclusion(
            f"reported {reported} cannot be converted to the analysis measure {out['measure']}"
        )
    yi, vi = generic_effect(row)
    if reported == "MD" and options.harmonize_scale_to is not None:
        lo, hi = row.get("scale_min"), row.get("scale_max")
        if present(lo) and present(hi) and not (lo == 0 and hi == options.harmonize_scale_to):
            factor = options.harmonize_scale_to / (hi - lo)
            yi, vi = yi * factor, vi * factor**2
            out["conversions"].append(
                f"rescaled {lo:g}–{hi:g} to 0–{options.harmonize_scale_to:g}"
            )
    if reported in ("MD", "SMD", "ROM") and row.get("higher_is_better") is True:
        yi = -yi
        out["sign_flipped"] = True
    if not present(row.get("effect_se")):
        out["conversions"].append("SE from 95% CI of the effect")
    out.update(yi=yi, vi=vi)


def compute_effect_sizes(
    outcomes: pd.DataFrame, studies: pd.DataFrame, options: EffectOptions
) -> pd.DataFrame:
    """Effect sizes for every outcome row, in ``EFFECT_SIZE_COLUMNS`` order.

    ``outcomes`` is the validated, typed table from :func:`metareview.io.load_inputs`
    (with ``condition``, ``data_kind``, ``source_file`` and ``source_line``).
    """
    meta = studies.set_index("study_id")[["label", "year", "design"]]
    rows = []
    for _, row in outcomes.iterrows():
        study = meta.loc[row["study_id"]]
        full = pd.concat([row, study])
        record = {col: full.get(col) for col in EFFECT_SIZE_COLUMNS if col in full.index}
        record.update(row_effect(full, options))
        rows.append(record)
    table = pd.DataFrame(rows).reindex(columns=EFFECT_SIZE_COLUMNS)
    crit = stats.norm.ppf(0.5 + options.level / 2)
    table["sei"] = np.sqrt(table["vi"].astype(float))
    table["ci_low"] = table["yi"] - crit * table["sei"]
    table["ci_high"] = table["yi"] + crit * table["sei"]
    order = ["condition", "outcome", "timepoint_weeks", "measure", "year", "label", "study_id"]
    return table.sort_values(order, kind="mergesort").reset_index(drop=True)
