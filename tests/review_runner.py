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


def run_review(root: Path) -> dict:
    """Validate ``root`` (config and data/raw/) and run every rule in order, in-process.

    Returns the validated config. Raises :class:`~metareview.validation.InputError` for bad
    input, like the Snakefile, before any output is written.
    """
    root = Path(root)
    with contextlib.chdir(root):
        config = load_config("config.yaml")
        raw = load_inputs(".", config["conditions"])
        check_config_columns(config, raw.studies)
        conditions = sorted(raw.outcomes["condition"].unique())
        outcome_files = [f"data/raw/outcomes/{c}.csv" for c in conditions]
        reviews = "data/raw/reviews.csv" if Path("data/raw/reviews.csv").exists() else None
        for folder in ("results", "data/processed", "logs"):
            Path(folder).mkdir(parents=True, exist_ok=True)
        effects, pooled = "data/processed/effect_sizes.csv", "results/pooled.csv"
        sens = {name: f"results/{name}.csv" for name in SENSITIVITY_OUTPUTS}

        def run(name, input, output, params):  # noqa: A002
            log = Named([f"logs/{name}.log"])
            script(name).main(FakeSnakemake(input=input, output=output, params=params, log=log))

        run(
            "compute_effect_sizes",
            Named(studies="data/raw/studies.csv", outcomes=outcome_files),
            Named([effects]),
            Named(
                conditions=conditions,
                measure_continuous=config["measure"]["continuous"],
                measure_binary=config["measure"]["binary"],
                harmonize_scale_to=config["harmonize_scale_to"],
                crossover_correlation=config["crossover_correlation"],
                level=config["level"],
            ),
        )
        methods = {
            "tau2_method": config["tau2_method"],
            "ci_method": config["ci_method"],
            "level": config["level"],
        }
        run(
            "pool_effects",
            Named([effects]),
            Named([pooled]),
            Named(**methods, convergence=config["convergence"]),
        )
        inputs = ["data/raw/studies.csv", *outcome_files] + ([reviews] if reviews else [])
        run(
            "write_provenance",
            Named(inputs),
            Named(["results/provenance.json"]),
            Named(config=config),
        )
        run(
            "analyse_sensitivity",
            Named(effects=effects, studies="data/raw/studies.csv"),
            Named(**sens),
            Named(
                **methods,
                subgroups=config["subgroups"],
                moderators=config["moderators"],
                convergence=config["convergence"],
            ),
        )
        figure_inputs = {k: sens[k] for k in (
            "small_study", "trimfill_filled", "leave_one_out", "subgroups", "subgroup_tests",
            "metaregression")}  # fmt: skip
        run(
            "plot_figures",
            Named(effects=effects, pooled=pooled, studies="data/raw/studies.csv", **figure_inputs),
            Named(["results/figures"]),
            Named(conditions=config["conditions"]),
        )
        report_inputs = dict(effects=effects, pooled=pooled, studies="data/raw/studies.csv")
        if reviews:
            report_inputs["reviews"] = reviews
        run(
            "render_report",
            Named(
                **report_inputs,
                **sens,
                provenance="results/provenance.json",
                figures="results/figures",
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
            ),
        )
    return config
