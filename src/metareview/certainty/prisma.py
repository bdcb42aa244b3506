"""Reading and checking ``data/raw/prisma.yaml`` (PRISMA 2020 flow counts).

The boxes must add up, as the data contract says::

    Σ identified − Σ removed_before_screening = screened
    screened − excluded_screening             = sought_retrieval
    sought_retrieval − not_retrieved          = assessed
    assessed − Σ excluded_reports             = included_reports

and ``included_studies`` must equal the rows of ``studies.csv``. A mismatch is an input error
naming the boxes and their numbers (and the YAML line of the box that disagrees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from metareview.config import parse_yaml
from metareview.validation import InputError, Problem

FILE = "data/raw/prisma.yaml"
MAPPINGS = ("identified", "removed_before_screening", "excluded_reports")
COUNTS = (
    "screened",
    "excluded_screening",
    "sought_retrieval",
    "not_retrieved",
    "assessed",
    "included_studies",
    "included_reports",
)
TEXTS = ("search_description",)
REQUIRED = (*MAPPINGS, *COUNTS)


@dataclass(frozen=True)
class Prisma:
    """Checked PRISMA 2020 counts (mappings keep the file's order)."""

    identified: dict[str, int]
    removed_before_screening: dict[str, int]
    screened: int
    excluded_screening: int
    sought_retrieval: int
    not_retrieved: int
    assessed: int
    excluded_reports: dict[str, int]
    included_studies: int
    included_reports: int
    search_description: str = ""
    extra: dict = field(default_factory=dict)


def _key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of every top-level key of a YAML mapping."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value}


def _count(value, key: str, line, problems: list[Problem], file: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(
            Problem(
                file, line, None, f"key '{key}': value {value!r} is not allowed; use a count ≥ 0"
            )
        )
        return None
    return value


def parse_prisma(text: str, n_studies: int | None, file: str = FILE) -> Prisma:
    """Parse and check the YAML text; ``n_studies`` = rows of studies.csv (None: unchecked).

    Raises
    ------
    InputError
        Every problem: unknown or missing keys, non-counts, and each sum that does not add up,
        naming the boxes.
    """
    data = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise InputError([Problem(file, None, None, "must be a mapping of PRISMA boxes")])
    lines = _key_lines(text)
    problems: list[Problem] = []
    known = (*REQUIRED, *TEXTS)
    for key in data:
        if key not in known:
            problems.append(
                Problem(
                    file,
                    lines.get(key),
                    None,
                    f"key '{key}' is not a PRISMA box; known keys: {', '.join(known)}",
                )
            )
    for key in REQUIRED:
        if key not in data:
            problems.append(Problem(file, None, None, f"key '{key}' is missing"))
    values: dict = {}
    for key in MAPPINGS:
        if key not in data:
            continue
        raw = data[key]
        if not isinstance(raw, dict):
            problems.append(
                Problem(
                    file,
                    lines.get(key),
                    None,
                    f"key '{key}': value {raw!r} is not allowed; use a mapping of name: count",
                )
            )
            continue
        counts = {
            str(k): _count(v, f"{key}.{k}", lines.get(key), problems, file) for k, v in raw.items()
        }
        values[key] = counts
    for key in COUNTS:
        if key in data:
            values[key] = _count(data[key], key, lines.get(key), problems, file)
    text_value = data.get("search_description", "")
    if not isinstance(text_value, str):
        problems.append(
            Problem(
                file,
                lines.get("search_description"),
                None,
                "key 'search_description' must be text",
            )
        )
    if problems:
        raise InputError(problems)
    if any(v is None for v in values.values()) or any(
        v is None for key in MAPPINGS for v in values[key].values()
    ):
        raise InputError(problems)

    total = {key: sum(values[key].values()) for key in MAPPINGS}
    checks = [
        (
            "screened",
            total["identified"] - total["removed_before_screening"],
            "'identified' (Σ = {a}) − 'removed_before_screening' (Σ = {b}) = {d}",
            (total["identified"], total["removed_before_screening"]),
        ),
        (
            "sought_retrieval",
            values["screened"] - values["excluded_screening"],
            "'screened' ({a}) − 'excluded_screening' ({b}) = {d}",
            (values["screened"], values["excluded_screening"]),
        ),
        (
            "assessed",
            values["sought_retrieval"] - values["not_retrieved"],
            "'sought_retrieval' ({a}) − 'not_retrieved' ({b}) = {d}",
            (values["sought_retrieval"], values["not_retrieved"]),
        ),
        (
            "included_reports",
            values["assessed"] - total["excluded_reports"],
            "'assessed' ({a}) − 'excluded_reports' (Σ = {b}) = {d}",
            (values["assessed"], total["excluded_reports"]),
        ),
    ]
    for box, expected, template, (a, b) in checks:
        if values[box] != expected:
            problems.append(
                Problem(
                    file,
                    lines.get(box),
                    None,
                    f"counts do not add up: {template.format(a=a, b=b, d=expected)}"
                    f", but '{box}' is {values[box]}",
                )
            )
    if n_studies is not None and values["included_studies"] != n_studies:
        problems.append(
            Problem(
                file,
                lines.get("included_studies"),
                None,
                f"'included_studies' is {values['included_studies']} but data/raw/studies.csv "
                f"has {n_studies} studies",
            )
        )
    if problems:
        raise InputError(problems)
    return Prisma(**values, search_description=text_value.strip())


def load_prisma(root: Path | str, n_studies: int | None) -> Prisma | None:
    """``data/raw/prisma.yaml`` under ``root``, checked; None when the file is absent."""
    path = Path(root) / FILE
    from metareview.io import present, read_text_file

    if not present(path):
        return None

    return parse_prisma(read_text_file(path, FILE), n_studies)


__all__ = ["FILE", "Prisma", "load_prisma", "parse_prisma"]
