"""Run every stage of the workflow in-process on a review folder, as Snakemake would.

Each rule's entry script (``workflow/scripts/*.py``) is imported and its ``main(smk)`` is
called with a small stand-in for Snakemake's ``snakemake`` object, wired exactly as in
``workflow/rules/*.smk``. Much faster than ``snakemake --directory`` for property tests; one
integration test runs generated reviews through real Snakemake as well.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

from metareview.analysis_settings import check_analyses_against, read_analyses
from metareview.certainty.inputs import check_certainty_inputs
from metareview.config import check_config_columns, load_config
from metareview.io import load_inputs

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"
SENSITIVITY_OUTPUTS = (
    "subgroups", "subgroup_tests", "metaregression", "small_study", "trimfill_filled",
    "leave_one_out", "influence", "cumulative", "rob_sensitivity",
)  # fmt: skip


class Named(list):
    """Snakemake's Namedlist in miniature: a list whose items also have names."""

    def __init__(self, items=(), **named):
        super().__init__([*items, *named.values()])
        self._names = dict(named)

    def __getattr__(self, name):
        try:
            return self.__dict__["_names"][name]
        except KeyError as err:
            raise AttributeError(name) from err

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._names[key]
        return super().__getitem__(key)

    def get(self, name, default=None):
        return self._names.get(name, default)

    def keys(self):
        return self._names.keys()

    def items(self):
        return self._names.items()


class FakeSnakemake:
    def __init__(self, *, input, output, params, log):  # noqa: A002  (Snakemake's names)
        self.input, self.output, self.params, self.log = input, output, params, log


_MODULES: dict[str, object] = {}


def script(name: str):
    """The entry script ``workflow/scripts/<name>.py`` as a module (imported once)."""
    if name not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"wf_{name}", SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[name] = module
    return _MODULES[name]


def _optional(**paths) -> dict:
    """Snakemake's ``branch(exists(path), then=path)``: only the inputs that exist."""
    return {name: path for name, path in paths.items() if Path(path).exists()}


def run_review(root: Path) -> dict:
    """Validate ``root`` (config and data/raw/) and run every rule in order, in-process,
    wired as in ``workflow/rules/*.smk``.

    Returns the validated config. Raises :class:`~metareview.validation.InputError` for bad
    input, like the Snakefile, before any output is written.
    """
    root = Path(root)
    with contextlib.chdir(root):
        config = load_config("config.yaml")
        raw = load_inputs(".", config["conditions"])
        check_config_columns(config, raw.studies)
        check_analyses_against(read_analyses("."), raw.outcomes)
        check_certainty_inputs(".", raw.studies)
        conditions = sorted(raw.outcomes["condition"].unique())
        outcome_files = [f"data/raw/outcomes/{c}.csv" for c in conditions]
        for folder in ("results", "data/processed", "logs"):
            Path(folder).mkdir(parents=True, exist_ok=True)
        studies = "data/raw/studies.csv"
        effects, pooled = "data/processed/effect_sizes.csv", "results/pooled.csv"
        sens = {name: f"results/{name}.csv" for name in SENSITIVITY_OUTPUTS}
        repeated = {
            "multilevel": "results/multilevel.csv",
            "timecourse": "results/multilevel_timecourse.csv",
            "rare_events": "results/rare_events.csv",
        }
        certainty = {
            "summary_of_findings": "results/summary_of_findings.csv",
            "risk_of_bias": "results/risk_of_bias.csv",
        }
        analyses = _optional(analyses="data/raw/analyses.csv")
        rob = _optional(rob="data/raw/risk_of_bias.csv")
        methods = {
            "tau2_method": config["tau2_method"],
            "ci_method": config["ci_method"],
            "level": config["level"],
        }

        def run(name, input, output, params):  # noqa: A002
            log = Named([f"logs/{name}.log"])
            script(name).main(FakeSnakemake(input=input, output=output, params=params, log=log))

        run(
            "compute_effect_sizes",
            Named(studies=studies, outcomes=outcome_files, **analyses),
            Named([effects]),
            Named(
                conditions=conditions,
                measure_continuous=config["measure"]["continuous"],
                measure_binary=config["measure"]["binary"],
                harmonize_scale_to=config["harmonize_scale_to"],
                crossover_correlation=config["crossover_correlation"],
                level=config["level"],
                conventions=config["conventions"],
            ),
        )
        run(
            "pool_effects",
            Named(effects=effects, **analyses),
            Named([pooled]),
            Named(**methods, convergence=config["convergence"], conventions=config["conventions"]),
        )
        optional_raw = [
            f"data/raw/{n}"
            for n in ("risk_of_bias.csv", "prisma.yaml", "analyses.csv", "reviews.csv",
                      "reference_results.csv")
            if Path(f"data/raw/{n}").exists()
        ]  # fmt: skip
        inputs = [studies, *outcome_files, *optional_raw, "config.yaml"]
        run(
            "write_provenance",
            Named(inputs),
            Named(["results/provenance.json"]),
            Named(config=config),
        )
        run(
            "analyse_sensitivity",
            Named(effects=effects, studies=studies, **rob),
            Named(**sens),
            Named(
                **methods,
                subgroups=config["subgroups"],
                moderators=config["moderators"],
                convergence=config["convergence"],
                permutations=config["permutations"],
                seed=config["seed"],
            ),
        )
        run(
            "analyse_repeated",
            Named([effects]),
            Named(**repeated),
            Named(
                multilevel=config["multilevel"],
                rare_events=config["rare_events"],
                level=config["level"],
            ),
        )
        run(
            "assess_certainty",
            Named(
                effects=effects,
                pooled=pooled,
                studies=studies,
                small_study=sens["small_study"],
                **rob,
                **analyses,
            ),
            Named(**certainty),
            Named(grade=config["grade"]),
        )
        run(
            "plot_certainty",
            Named(
                risk_of_bias=certainty["risk_of_bias"],
                effects=effects,
                studies=studies,
                **_optional(prisma="data/raw/prisma.yaml"),
            ),
            Named(["results/certainty_figures"]),
            Named(),
        )
        run(
            "run_gosh",
            Named(effects=effects),
            Named(gosh="results/gosh.csv"),
            Named(
                tau2_method=config["tau2_method"],
                convergence=config["convergence"],
                seed=config["seed"],
            ),
        )
        figure_inputs = {k: sens[k] for k in (
            "small_study", "trimfill_filled", "leave_one_out", "subgroups", "subgroup_tests",
            "metaregression")}  # fmt: skip
        run(
            "plot_figures",
            Named(
                effects=effects,
                pooled=pooled,
                studies=studies,
                **figure_inputs,
                multilevel_timecourse=repeated["timecourse"],
                risk_of_bias=certainty["risk_of_bias"],
                gosh="results/gosh.csv",
            ),
            Named(["results/figures"]),
            Named(conditions=config["conditions"], review=config["review"]),
        )
        run(
            "render_report",
            Named(
                effects=effects,
                pooled=pooled,
                studies=studies,
                **_optional(reviews="data/raw/reviews.csv"),
                **sens,
                multilevel=repeated["multilevel"],
                multilevel_timecourse=repeated["timecourse"],
                rare_events=repeated["rare_events"],
                provenance="results/provenance.json",
                figures="results/figures",
                summary_of_findings=certainty["summary_of_findings"],
                risk_of_bias=certainty["risk_of_bias"],
                certainty_figures="results/certainty_figures",
            ),
            Named(html="results/report.html", md="results/report.md"),
            Named(
                conditions=config["conditions"],
                **methods,
                measure=config["measure"],
                harmonize_scale_to=config["harmonize_scale_to"],
                crossover_correlation=config["crossover_correlation"],
                subgroups=config["subgroups"],
                moderators=config["moderators"],
                review=config["review"],
                conventions=config["conventions"],
            ),
        )
    return config
