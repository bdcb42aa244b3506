"""Provenance written beside the results: input checksums, the config, package versions."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "metareview",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "plotnine",
    "matplotlib",
    "snakemake",
    "jsonschema",
    "pyyaml",
    "jinja2",
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape the numbers and figures."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_provenance(inputs: list[str], config: dict, root: Path | str = ".") -> dict:
    """A JSON-ready record; paths are relative to the working directory, sorted."""
    root = Path(root)
    return {
        "inputs": {p: sha256(root / p) for p in sorted(inputs)},
        "config": config,
        "python": platform.python_version(),
        "packages": package_versions(),
    }
