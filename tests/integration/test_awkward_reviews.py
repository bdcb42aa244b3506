"""Explicit valid but awkward SYNTHETIC reviews through real ``snakemake`` to a report (issue 14).

One Snakemake run covers the "Done when" list: narrow ranges (identical effects, CIs of width
~1e-4), huge ranges (ratio CIs from 0.01 to 1,000, MDs of ±40), k = 1, 2, 3, 8 and 40, huge
(10^6) and tiny (2) arms, rare events (~0.1%), the 40%-risk RR review that crashed the funnel
plot, every measure and every tau² estimator and CI method (per-analysis settings in
``analyses.csv``), and labels with markup and formula characters. The generated reviews of
tests/integration/test_generated_reviews.py add random ones; this pins the named cases.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from review_strategies import Review
from test_whole_review_fuzz import check_review

from metareview.io import read_table

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
LABELS = ["=SUM(A1) 0", "<b>bold</b> & <script>x</script>", "-2+3+cmd|' /C calc'!A0",
          "Sørensen – Jørum 2009", "{{ jinja }} *md* | pipe", "A very long label " * 8]  # fmt: skip


def _studies(k: int) -> list[dict]:
    return [{"study_id": f"s{i:02d}", "label": LABELS[i] if i < len(LABELS) else f"Synthetic {i}",
             "year": str(1990 + i % 30), "design": "parallel", "citation": "SYNTHETIC"}
            for i in range(k)]  # fmt: skip


def _row(i: int, outcome: str, t: float = 1.0, **cells) -> dict:
    return {"study_id": f"s{i:02d}", "outcome": outcome, "timepoint_weeks": str(t)} | {
        k: str(v) for k, v in cells.items()
    }


def awkward_review() -> tuple[Review, str]:
    narrow = [_row(i, "identical", exp_n=400, exp_mean=5, exp_sd=2, ctl_n=400, ctl_mean=5,
                   ctl_sd=2) for i in range(6)]  # fmt: skip
    narrow += [_row(i, "tiny_ci", exp_n=1_000_000, exp_mean=50 + 1e-5 * i, exp_sd=0.05,
                    ctl_n=1_000_000, ctl_mean=50, ctl_sd=0.05) for i in range(8)]  # fmt: skip
    narrow += [_row(0, "single", exp_n=2, exp_mean=3, exp_sd=1, ctl_n=2, ctl_mean=4, ctl_sd=1)]
    narrow += [_row(i, "pair", exp_n=3, exp_mean=3 + i, exp_sd=1, ctl_n=3, ctl_mean=4, ctl_sd=2)
               for i in range(2)]  # fmt: skip
    wide = [_row(i, "ratio_wide", effect=[0.02, 1.0, 50.0][i], effect_ci_low=[0.01, 0.01, 2.5][i],
                 effect_ci_high=[0.04, 100.0, 1000.0][i], effect_measure="OR")
            for i in range(3)]  # fmt: skip
    wide += [_row(i, "md_wide", effect=(-40 if i % 2 else 40) * (i / 39), effect_se=1 + i % 5,
                  effect_measure="MD") for i in range(40)]  # fmt: skip
    wide += [_row(i, "hr", effect=0.7 + 0.1 * i, effect_se=0.2, effect_measure="HR")
             for i in range(3)]  # fmt: skip
    binary = []
    for t in (1, 2, 3):  # one outcome at three timepoints, pooled as RR, OR and RD
        binary += [_row(i, "large_consistent", t, exp_n=400, exp_events=160 + i % 3,
                        ctl_n=400, ctl_events=158 + i % 2) for i in range(8)]  # fmt: skip
    binary += [_row(i, "rare", exp_n=100_000, exp_events=[0, 1, 3, 0, 2, 0, 1, 0][i],
                    ctl_n=100_000, ctl_events=[1, 0, 2, 0, 4, 1, 0, 0][i])
               for i in range(8)]  # fmt: skip
    binary += [_row(i, "all_or_none", exp_n=10, exp_events=[10, 0, 10][i], ctl_n=10,
                    ctl_events=[0, 10, 5][i]) for i in range(3)]  # fmt: skip
    config = {"measure": {"continuous": "SMD", "binary": "RR"}, "tau2_method": "REML",
              "ci_method": "hksj", "level": 0.95, "subgroups": [], "moderators": ["year"]}  # fmt: skip
    review = Review(config=config, studies=_studies(40),
                    outcomes={"narrow": narrow, "wide": wide, "binary": binary})  # fmt: skip
    analyses = "\n".join([
        "condition,outcome,timepoint_weeks,measure,tau2_method,ci_method,level",
        "narrow,identical,,MD,DL,hksj,", "narrow,tiny_ci,,ROM,PM,z,0.99",
        "narrow,pair,,SMD,ML,hksj,", "wide,md_wide,,MD,HE,z,", "wide,ratio_wide,,OR,SJ,hksj,0.5",
        "wide,hr,,,HS,z,", "binary,large_consistent,1,RR,EB,z,",
        "binary,large_consistent,2,OR,REML,hksj,", "binary,large_consistent,3,RD,DL,z,",
        "binary,rare,,OR,PM,hksj,", "binary,all_or_none,,RD,REML,z,",
    ]) + "\n"  # fmt: skip
    return review, analyses


def test_awkward_reviews_run_through_snakemake_to_a_report(tmp_path):
    review, analyses = awkward_review()
    root = review.write(tmp_path)
    (root / "data/raw/analyses.csv").write_text(analyses, encoding="utf-8")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(root), "--cores", "2", "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    check_review(root, review)
    pooled = read_table(root / "results/pooled.csv")
    assert set(pooled["measure"]) == {"MD", "SMD", "ROM", "RR", "OR", "RD", "HR"}
    assert set(pooled["tau2_method"]) == {"DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB"}
    assert {1, 2, 3, 8, 40} <= set(pooled["k"].astype(int))
    assert set(pooled["outcome"]) == {r["outcome"] for rows in review.outcomes.values()
                                      for r in rows}  # fmt: skip
    identical = pooled[pooled["outcome"] == "identical"].iloc[0]
    assert identical["tau2"] == 0 and identical["q"] == 0 and identical["estimate"] == 0
