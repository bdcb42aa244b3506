"""Tests of the report (HTML and Markdown) and the two entry scripts. All data are SYNTHETIC."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview.analyses import pool_analyses
from metareview.report import md_escape
from metareview.tables import EFFECT_SIZE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script> | *bold* [x](http://evil.example)"
PARAMS = {
    "conditions": [],
    "tau2_method": "REML",
    "ci_method": "hksj",
    "level": 0.95,
    "measure": {"continuous": "MD", "binary": "RR"},
    "harmonize_scale_to": 10,
    "crossover_correlation": None,
    "subgroups": ["route"],
    "moderators": ["dose_mg_kg"],
}


def load_script(name: str):
    """Import a workflow entry script as a module (its main() is not run on import)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "workflow" / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_review(root: Path) -> dict[str, Path]:
    """Write a small SYNTHETIC review (tables as the workflow writes them) under ``root``."""
    rng = np.random.default_rng(0)
    studies, rows = [], []
    for i in range(5):
        sid = f"syn{i}"
        label = EVIL if i == 0 else f"Synthetic {i}"
        studies.append(
            dict(
                study_id=sid,
                label=label,
                year=2001 + i,
                design="parallel",
                route=["iv", "oral"][i % 2],
                dose_mg_kg=0.1 * (i + 1),
                condition="synthetic_pain",
                doi=f"10.0000/syn.{i}",
                unusable_data="",
            )
        )
        for week in (1.0, 4.0):
            m1, m2 = rng.normal(3, 1), rng.normal(4.5, 1)
            yi, vi = m1 - m2, 2 / 30 + 2 / 30
            rows.append(
                dict(
                    condition="synthetic_pain",
                    study_id=sid,
                    outcome="pain_intensity",
                    timepoint_weeks=week,
                    measure="MD",
                    yi=yi,
                    vi=vi,
                    sei=vi**0.5,
                    ci_low=yi - 1.96 * vi**0.5,
                    ci_high=yi + 1.96 * vi**0.5,
                    included=True,
                    exclusion_reason="",
                    label=label,
                    year=2001 + i,
                    design="parallel",
                    data_kind="continuous",
                    higher_is_better=False,
                    exp_n=30,
                    ctl_n=30,
                    exp_mean=m1,
                    exp_sd=1.4,
                    ctl_mean=m2,
                    ctl_sd=1.4,
                    continuity_correction=False,
                    assumptions=f"analyst note for {label}" if i == 0 else "",
                    conversions="exp: SD from SE" if i == 1 else "",
                    outcome_label="pain intensity (synthetic)",
                    timepoint_label=f"week {week:g}",
                )
            )
    rows.append(
        rows[0]
        | dict(
            study_id="syn9",
            label="Zero events 2009",
            included=False,
            yi=np.nan,
            vi=np.nan,
            outcome="responders_50",
            measure="RR",
            exclusion_reason="no events in either arm",
        )
    )
    studies.append(
        dict(
            study_id="syn9",
            label="Zero events 2009",
            year=2009,
            design="crossover",
            condition="synthetic_pain",
            unusable_data="",
        )
    )
    studies.append(
        dict(
            study_id="nodata",
            label="Silent 1999",
            year=1999,
            design="parallel",
            condition="empty_condition",
            unusable_data="p-values only",
        )
    )
    effects = pd.DataFrame(rows).reindex(columns=EFFECT_SIZE_COLUMNS)
    pooled = pool_analyses(effects, tau2_method="REML", ci_method="hksj", level=0.95)
    paths = {
        "effects": root / "data/processed/effect_sizes.csv",
        "pooled": root / "results/pooled.csv",
        "studies": root / "data/raw/studies.csv",
        "reviews": root / "data/raw/reviews.csv",
        "provenance": root / "results/provenance.json",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    effects.to_csv(paths["effects"], index=False)
    pooled.to_csv(paths["pooled"], index=False)
    pd.DataFrame(studies).to_csv(paths["studies"], index=False)
    pd.DataFrame(
        [
            dict(
                label="Synthetic review 2020",
                condition="synthetic_pain",
                outcome="pain_intensity",
                timepoint_label="4 weeks",
                measure="MD",
                estimate=-1.0,
                ci_low=-2.0,
                ci_high=0.0,
                k_studies=4,
                certainty_or_note="GRADE low | synthetic",
                doi_or_id="10.0000/rev; PMID 123",
                source_url="https://example.org/review",
            ),
            dict(
                label="Second synthetic review",
                condition="synthetic_pain",
                outcome="pain_intensity",
                measure="RR",
                estimate=1.5,
                doi_or_id="registry-1",
                source_url="javascript:alert(1)",
            ),
        ]
    ).to_csv(paths["reviews"], index=False)
    paths["provenance"].write_text(
        json.dumps(
            {
                "inputs": {"data/raw/studies.csv": "0" * 64, "config.yaml": "1" * 64},
                "config": PARAMS,
                "python": "3.11",
                "packages": {"plotnine": "0.15", "pandas": "3"},
            }
        )
    )
    loo = [
        dict(
            condition="synthetic_pain",
            outcome="pain_intensity",
            timepoint_weeks=1.0,
            measure="MD",
            omitted=f"syn{i}",
            estimate=-1.4,
            se=0.3,
            ci_low=-2.2,
            ci_high=-0.6,
            p_value=0.01,
            tau2=0.05,
            i2=10.0,
            q=4.0,
        )
        for i in range(5)
    ]
    paths["leave_one_out"] = root / "results/leave_one_out.csv"
    pd.DataFrame(loo).to_csv(paths["leave_one_out"], index=False)
    ss = dict(
        condition="synthetic_pain",
        outcome="pain_intensity",
        timepoint_weeks=1.0,
        measure="MD",
        k=5,
        egger_t=1.1,
        egger_p=0.35,
        trimfill_k0=1,
        trimfill_side="left",
        trimfill_estimate=-1.2,
        trimfill_ci_low=-2.0,
        trimfill_ci_high=-0.4,
        underpowered=True,
    )
    paths["small_study"] = root / "results/small_study.csv"
    pd.DataFrame([ss]).to_csv(paths["small_study"], index=False)
    return paths


def run_workflow_scripts(root: Path) -> tuple[Path, Path, Path]:
    """Run plot_figures, plot_overview and render_report main() as Snakemake would (SYNTHETIC
    inputs; one condition's tables stand in for the combined ones)."""
    paths = synthetic_review(root)
    (root / "logs").mkdir(exist_ok=True)
    figures = root / "results/figures"
    manifest = root / "results/conditions/synthetic_pain/figures.sha256"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    common = {k: str(v) for k, v in paths.items() if k not in ("reviews", "provenance")}
    # The per-condition folders of sensitivity and repeated-timepoint tables: here the
    # combined tables in results/ stand in (absent ones read as empty).
    common |= {"sensitivity": str(root / "results"), "repeated": str(root / "results")}
    outputs = Named(manifest=str(manifest), figures=str(figures / "synthetic_pain"))
    plot_smk = Smk(common, outputs, {}, root / "logs/plot.log")
    plot_smk.wildcards = Named(condition="synthetic_pain")
    load_script("plot_figures.py").main(plot_smk)
    overview = figures / "overview.svg"
    overview_smk = Smk(
        common,
        Named([str(overview)]),
        {"conditions": [], "level": 0.95},
        root / "logs/overview.log",
    )
    load_script("plot_overview.py").main(overview_smk)
    html, md = root / "results/report.html", root / "results/report.md"
    inputs = {k: str(v) for k, v in paths.items()}
    inputs |= {"overview": str(overview), "figure_manifests": [str(manifest)]}
    params = PARAMS | {"figures_dir": str(figures), "code": "0123"}
    report_smk = Smk(inputs, Named(html=str(html), md=str(md)), params, root / "logs/report.log")
    load_script("render_report.py").main(report_smk)
    return figures, html, md


class Named(list):
    """The part of Snakemake's named lists the entry scripts use: [i], .name, get(), items()."""

    def __init__(self, items=(), **named):
        super().__init__([*items, *named.values()])
        self._named = named

    def __getattr__(self, name):
        try:
            return self.__dict__["_named"][name]
        except KeyError as err:
            raise AttributeError(name) from err

    def get(self, name, default=None):
        return self._named.get(name, default)

    def items(self):
        return self._named.items()


class Smk:
    """A stand-in for the injected ``snakemake`` object (no Snakemake internals)."""

    def __init__(self, inputs: dict, output: Named, params: dict, log: Path):
        self.input = Named(**inputs)
        self.output = output
        self.params = Named(**params)
        self.log = Named([str(log)])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    figures, html, md = run_workflow_scripts(root)
    return {
        "root": root,
        "figures": figures,
        "html": html.read_text(encoding="utf-8"),
        "md": md.read_text(encoding="utf-8"),
    }


class TestHtml:
    def test_data_strings_are_escaped(self, rendered):
        html = rendered["html"]
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="http://evil.example' not in html
        assert 'href="javascript' not in html
        assert 'href="https://doi.org/10.0000/rev"' in html  # the DOI, without "; PMID 123"

    def test_self_contained(self, rendered):
        html = rendered["html"]
        assert re.findall(r'\ssrc="(?!data:image/svg\+xml;base64,)', html) == []
        assert "<link" not in html and "@import" not in html and "url(" not in html
        assert "<iframe" not in html and "<object" not in html and "<embed" not in html
        # Only plain hyperlinks (<a>) may point elsewhere; nothing is loaded.
        assert set(re.findall(r"<(\w+)[^>]*\shref=", html)) == {"a"}
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith(("#", "https://", "http://")), href

    def test_figures_are_inlined(self, rendered):
        html = rendered["html"]
        assert html.count('src="data:image/svg+xml;base64,') >= 3  # overview + 2 forests
        assert "forest_synthetic_pain--pain_intensity--w1" not in html  # no file references

    def test_content(self, rendered):
        html = rendered["html"]
        for needle in (
            "Summary of all analyses",
            "What this means",
            "Egger&#39;s test is underpowered with k &lt; 10",
            "Trim-and-fill imputes 1 study",
            "Leave-one-out: no single study changes the conclusion",
            "analyst note for",
            "Conversions: exp: SD from SE",
            "no events in either arm",
            "Empty condition",
            "p-values only",
            "External reference points",
            "GRADE low | synthetic",
            "t(k − 2)",
            "REML",
            "0" * 64,
            "plotnine",
        ):
            assert needle in html, needle

    def test_no_timestamps(self, rendered):
        assert not re.search(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", rendered["html"])


class TestMarkdown:
    def test_escaped_and_tables_intact(self, rendered):
        md = rendered["md"]
        assert "<script" not in md.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*bold\\* \\[x\\]" in md
        table_rows = [line for line in md.splitlines() if line.startswith("| Synthetic pain")]
        assert table_rows and all(row.count(" | ") == 8 for row in table_rows)

    def test_figures_by_relative_path(self, rendered):
        md = rendered["md"]
        names = re.findall(r"\]\((figures/[^)]+\.svg)\)", md)
        assert "figures/overview.svg" in names
        for name in names:
            assert (rendered["figures"].parent / name).exists()

    def test_md_escape(self):
        assert md_escape("a|b") == "a\\|b"
        assert md_escape("<b>&") == "&lt;b&gt;&amp;"
        assert md_escape("line\nbreak") == "line break"


def test_two_runs_give_identical_bytes(rendered, tmp_path):
    figures, html, md = run_workflow_scripts(tmp_path)
    first = sorted(rendered["figures"].glob("*.svg"))
    assert [p.name for p in first] == sorted(p.name for p in figures.glob("*.svg"))
    for path in first:
        assert path.read_bytes() == (figures / path.name).read_bytes(), path.name
    assert html.read_text(encoding="utf-8") == rendered["html"]
    assert md.read_text(encoding="utf-8") == rendered["md"]


def test_report_job_removes_figures_no_rule_makes(tmp_path):
    """A condition no longer analysed and loose SVGs of the pre-0.4.0 layout are removed; the
    current conditions' folders (even one with no figure drawn) and the overview stay."""
    figures = tmp_path / "results/figures"
    for path in ("overview.svg", "forest_crps--pain--w1.svg", "crps/forest_crps--pain--w1.svg",
                 "crps/.snakemake_timestamp", "empty/.snakemake_timestamp",
                 "dropped/forest_dropped--pain--w1.svg"):  # fmt: skip
        (figures / path).parent.mkdir(parents=True, exist_ok=True)
        (figures / path).write_text("<svg/>")
    kept = {
        "overview.svg": "overview.svg",
        "forest_crps--pain--w1.svg": "crps/forest_crps--pain--w1.svg",
    }
    load_script("render_report.py").remove_stale_figures(figures, kept, ["crps", "empty"])
    left = sorted(p.relative_to(figures).as_posix() for p in figures.rglob("*") if p.is_file())
    assert left == ["crps/.snakemake_timestamp", "crps/forest_crps--pain--w1.svg",
                    "empty/.snakemake_timestamp", "overview.svg"]  # fmt: skip
