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
from metareview.jobs import source_digests

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
    def __init__(self, *, input, output, params, log, wildcards):  # noqa: A002  (Snakemake's names)
        self.input, self.output, self.params, self.log = input, output, params, log
        self.wildcards = wildcards


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
    wired as in ``workflow/rules/*.smk``: one job per condition for effect sizes, pooling,
    sensitivity analyses and figures, then the gather jobs, the whole-review rules and the
    report.

    Returns the validated config. Raises :class:`~metareview.validation.InputError` for bad
    input, like the Snakefile, before any output is written.
    """
    root = Path(root)
    code = source_digests()
    code_core = code["core"]
    code_plots = f"{code['core']}-{code['plots']}"
    code_report = f"{code['core']}-{code['plots']}-{code['report']}"
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

        def condition_effects(c):
            return f"data/processed/conditions/{c}/effect_sizes.csv"

        def condition_pooled(c):
            return f"results/conditions/{c}/pooled.csv"

        def condition_sens(c):
            return {name: f"results/conditions/{c}/{name}.csv" for name in SENSITIVITY_OUTPUTS}

        def figure_manifest(c):
            return f"results/conditions/{c}/figures.sha256"

        def run(name, input, output, params, rule=None, condition=None):  # noqa: A002
            rule = rule or name
            log_name = f"{rule}/{condition}" if condition is not None else rule
            Path(f"logs/{log_name}.log").parent.mkdir(parents=True, exist_ok=True)
            for path in output:  # Snakemake creates the output folders before a job runs
                if isinstance(path, str):
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
            smk = FakeSnakemake(
                input=input,
                output=output,
                params=params,
                log=Named([f"logs/{log_name}.log"]),
                wildcards=Named(condition=condition) if condition is not None else Named(),
            )
            script(name).main(smk)

        for c in conditions:
            run(
                "compute_effect_sizes",
                Named(studies=studies, outcomes=f"data/raw/outcomes/{c}.csv", **analyses),
                Named([condition_effects(c)]),
                Named(
                    measure_continuous=config["measure"]["continuous"],
                    measure_binary=config["measure"]["binary"],
                    harmonize_scale_to=config["harmonize_scale_to"],
                    crossover_correlation=config["crossover_correlation"],
                    level=config["level"],
                    conventions=config["conventions"],
                    code=code_core,
                ),
                rule="effect_sizes_condition",
                condition=c,
            )
        run(
            "gather_tables",
            Named([condition_effects(c) for c in conditions]),
            Named([effects]),
            Named(code=code_core),
            rule="gather_effect_sizes",
        )
        for c in conditions:
            run(
                "pool_effects",
                Named(effects=condition_effects(c), **analyses),
                Named([condition_pooled(c)]),
                Named(
                    **methods,
                    convergence=config["convergence"],
                    conventions=config["conventions"],
                    code=code_core,
                ),
                rule="pool_condition",
                condition=c,
            )
        run(
            "gather_tables",
            Named([condition_pooled(c) for c in conditions]),
            Named([pooled]),
            Named(code=code_core),
            rule="gather_pooled",
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
            Named(config=config, code=code_core),
        )
        for c in conditions:
            run(
                "analyse_sensitivity",
                Named(effects=condition_effects(c), studies=studies, **rob),
                Named(**condition_sens(c)),
                Named(
                    **methods,
                    subgroups=config["subgroups"],
                    moderators=config["moderators"],
                    convergence=config["convergence"],
                    permutations=config["permutations"],
                    seed=config["seed"],
                    code=code_core,
                ),
                rule="sensitivity_condition",
                condition=c,
            )
        run(
            "gather_tables",
            Named(**{name: [condition_sens(c)[name] for c in conditions] for name in sens}),
            Named(**sens),
            Named(code=code_core),
            rule="gather_sensitivity",
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
                **_optional(prisma="data/raw/prisma.yaml"),
                studies=studies,
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
            rule="gosh",
        )
        for c in conditions:
            run(
                "plot_figures",
                Named(
                    **condition_sens(c),
                    effects=condition_effects(c),
                    pooled=condition_pooled(c),
                    studies=studies,
                    gosh="results/gosh.csv",
                    multilevel_timecourse=repeated["timecourse"],
                    risk_of_bias=certainty["risk_of_bias"],
                ),
                Named([figure_manifest(c)]),
                Named(figures_dir="results/figures", review=config["review"], code=code_plots),
                rule="plot_condition",
                condition=c,
            )
        overview = "results/figures/overview.svg"
        run(
            "plot_overview",
            Named(effects=effects, pooled=pooled, studies=studies),
            Named([overview]),
            Named(conditions=config["conditions"], review=config["review"], code=code_plots),
        )
        reference = {}
        if Path("data/raw/reference_results.csv").exists():
            reference = {"reference_comparison": "results/reference_comparison.csv"}
            run(
                "compare_reference",
                Named(pooled=pooled, reference="data/raw/reference_results.csv"),
                Named([reference["reference_comparison"]]),
                Named(),
            )
        run(
            "render_report",
            Named(
                **sens,
                effects=effects,
                pooled=pooled,
                studies=studies,
                **_optional(reviews="data/raw/reviews.csv"),
                multilevel=repeated["multilevel"],
                multilevel_timecourse=repeated["timecourse"],
                rare_events=repeated["rare_events"],
                provenance="results/provenance.json",
                overview=overview,
                figure_manifests=[figure_manifest(c) for c in conditions],
                **reference,
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
                figures_dir=str(Path(overview).parent),
                code=code_report,
            ),
        )
    return config
