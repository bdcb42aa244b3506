"""Run every job of the workflow in-process on a review folder, wired by Snakemake itself.

The DAG is built by Snakemake's API from the real ``Snakefile`` for the folder (every job
forced, no lock); its jobs are taken in topological order and each rule's entry script
(``workflow/scripts/*.py``) is imported and its ``main(smk)`` called with the job's own
``input``, ``output``, ``params``, ``log`` and ``wildcards`` (Snakemake's Namedlists). No rule
is mirrored by hand, so this cannot drift from ``workflow/rules/*.smk``. Much faster than a
``snakemake`` subprocess per job for property tests (one process, imports paid once); one
integration test runs generated reviews through real Snakemake as well.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

from metareview.config import check_config_columns, load_config
from metareview.io import load_inputs
from metareview.validation_cache import cross_file_checks

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
RULES = REPO / "workflow" / "rules"


class FakeSnakemake:
    """The ``snakemake`` object a script sees, made of the job's own Namedlists."""

    def __init__(self, job, config):
        self.input, self.output, self.params = job.input, job.output, job.params
        self.log, self.wildcards = job.log, job.wildcards
        self.threads, self.resources = 1, job.resources
        self.config, self.rule = config, job.rule.name


_MODULES: dict[Path, object] = {}


def script(path: Path):
    """An entry script as a module (imported once)."""
    path = path.resolve()
    if path not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"wf_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def workflow_jobs(root: Path) -> tuple[list, dict]:
    """(jobs in topological order, the workflow's config) of the Snakefile run on ``root``.

    Every job is included (``forceall``), sorted within a level by rule and wildcards so the
    order is reproducible. Snakemake's API changes to ``root`` and back.
    """
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        DAGSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    ordered = []
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            snakefile=SNAKEFILE,
            workdir=Path(root).resolve(),
        )
        workflow_api.dag(DAGSettings(forceall=True))
        workflow = workflow_api._workflow
        workflow._prepare_dag(
            forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True
        )
        workflow._build_dag()
        for level in workflow.dag.toposorted():
            ordered += sorted(level, key=lambda j: (j.rule.name, sorted(j.wildcards.items())))
        config = dict(workflow.config)
    return [job for job in ordered if job.rule.script], config


def run_job(job, config) -> None:
    """One job, as Snakemake's ``script:`` would run it (output and log folders made first)."""
    for path in [*job.output, *job.log]:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    script(RULES / job.rule.script).main(FakeSnakemake(job, config))


def run_review(root: Path) -> dict:
    """Validate ``root`` (config and data/raw/) and run every job of its DAG in order,
    in-process.

    Returns the validated config. Raises :class:`~metareview.validation.InputError` for bad
    input, as the Snakefile rejects it, before any output is written.
    """
    root = Path(root).resolve()
    with contextlib.chdir(root):
        # The Snakefile runs these checks too, but exits with the message; here the error
        # itself is raised for the tests.
        config = load_config("config.yaml")
        raw = load_inputs(".", config["conditions"])
        check_config_columns(config, raw.studies)
        cross_file_checks(".", config, raw)
    jobs, workflow_config = workflow_jobs(root)
    with contextlib.chdir(root):
        for job in jobs:
            run_job(job, workflow_config)
        # What Snakemake checks after each job.
        declared = {str(path) for job in jobs for path in job.output}
        missing = sorted(path for path in declared if not Path(path).exists())
        assert not missing, f"declared outputs not written: {missing}"
    return config
