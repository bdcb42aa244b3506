"""Validate ``config.yaml`` against its JSON schema and fill in defaults.

Errors name the key, the value and what is allowed, e.g.
``config.yaml: key 'tau2_method': value 'FOO' is not allowed; use one of DL, REML, ...``.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import yaml

from metareview.validation import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

CONFIG_FILE = "config.yaml"
#: Largest config file read (bytes); a review's config is a few hundred bytes.
MAX_CONFIG_BYTES = 1024 * 1024

#: YAML 1.2 floats. PyYAML follows YAML 1.1, where ``5e-1`` and ``1e3`` (no dot) are text.
_FLOAT_12 = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (no "billion laughs") and duplicate keys, and reads
    YAML 1.2 numbers such as ``5e-1`` as numbers."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed; write the values out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"key '{key}' appears twice (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def load_config_file(path: str | Path = CONFIG_FILE, source: str = CONFIG_FILE) -> dict:
    """Read a config file safely: a regular file of at most :data:`MAX_CONFIG_BYTES`, no
    aliases, no duplicate keys. An empty or comment-only file is an empty config (all
    defaults)."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(source, None, None, "is not a regular file")])
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise InputError(
            [Problem(source, None, None, f"is larger than {MAX_CONFIG_BYTES // 1024} KiB")]
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Problem(source, None, None, f"not UTF-8 text ({err.reason})")]) from err
    data = parse_yaml(text, source)
    return {} if data is None else data


def parse_yaml(text: str, source: str):
    """``text`` read by :class:`StrictLoader`; a YAML error is an :class:`InputError` naming
    ``source`` and the line, with the parser's own words (not its context dump)."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506  (StrictLoader is safe)
    except RecursionError as err:  # e.g. [[[[...]]]] thousands deep
        raise InputError(
            [Problem(source, None, None, "not valid YAML: nested too deeply")]
        ) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err)
        raise InputError([Problem(source, line, None, f"not valid YAML: {what}")]) from err


def load_config(path: str | Path = CONFIG_FILE, overrides: dict | None = None) -> dict:
    """The validated config: ``path`` if it exists (else all defaults), with ``overrides``
    (e.g. Snakemake's ``--config``) on top."""
    data = load_config_file(path) if Path(path).exists() else {}
    if not isinstance(data, dict):
        raise InputError(
            [Problem(CONFIG_FILE, None, None, "the config must be a mapping of keys (key: value)")]
        )
    return validate_config(merge_config(data, overrides or {}))


def merge_config(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` on top (nested mappings merged key by key)."""
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_schema() -> dict:
    """The config schema shipped with the package (``metareview/schemas``)."""
    text = resources.files("metareview").joinpath("schemas/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def _fill_defaults(config: dict, schema: dict) -> dict:
    out = copy.deepcopy(config)
    for key, spec in schema.get("properties", {}).items():
        if key not in out and "default" in spec:
            out[key] = copy.deepcopy(spec["default"])
        if spec.get("type") == "object" and isinstance(out.get(key), dict):
            out[key] = _fill_defaults(out[key], spec)
    return out


TYPE_WORDS = {
    "number": "a number",
    "null": "null (empty)",
    "array": "a list, e.g. [a, b]",
    "string": "text",
    "object": "a mapping of keys",
    "boolean": "true or false",
}
#: What a mapping-valued key looks like, for messages.
MAPPING_EXAMPLES = {"measure": "measure: {continuous: MD, binary: RR}"}


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _describe(error: jsonschema.ValidationError, schema: dict) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    spec = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        parts = []
        for name in extra:
            hint = difflib.get_close_matches(name, allowed, n=1)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            where = f"{key}.{name}" if error.absolute_path else name
            parts.append(
                f"key '{where}' is not a known setting{tip}; known keys: {', '.join(allowed)}"
            )
        return "; ".join(parts)
    allowed = ""
    if "enum" in spec:
        allowed = "use one of " + ", ".join(str(v) for v in spec["enum"])
    elif error.validator in ("exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum"):
        lo = spec.get("exclusiveMinimum", spec.get("minimum"))
        hi = spec.get("exclusiveMaximum", spec.get("maximum"))
        allowed = "allowed: a number" + (f" above {lo}" if lo is not None else "")
        allowed += f" and below {hi}" if hi is not None else ""
    elif error.validator == "type":
        allowed = "allowed: " + " or ".join(
            TYPE_WORDS.get(t, t)
            for t in (
                [error.validator_value]
                if isinstance(error.validator_value, str)
                else error.validator_value
            )
        )
        if isinstance(error.instance, str) and _looks_numeric(error.instance):
            allowed += f" (YAML read '{error.instance}' as text; write a plain number such as 0.5)"
    elif error.validator == "pattern":
        allowed = f"allowed: a slug matching {error.validator_value}"
    else:
        allowed = error.message
    if error.validator == "type" and key in MAPPING_EXAMPLES:
        allowed += f", e.g. {MAPPING_EXAMPLES[key]}"
    return f"key '{key}': value {error.instance!r} is not allowed; {allowed}"


def _non_finite(config, path=()) -> list[tuple[str, float]]:
    """Keys whose value is a non-finite number (``.nan``, ``.inf``), anywhere in the config."""
    if isinstance(config, dict):
        return [k for key, v in config.items() for k in _non_finite(v, (*path, str(key)))]
    if isinstance(config, list):
        return [k for i, v in enumerate(config) for k in _non_finite(v, (*path, str(i)))]
    if isinstance(config, float) and not math.isfinite(config):
        return [(".".join(path), config)]
    return []


def validate_config(config: dict | None, source: str = CONFIG_FILE) -> dict:
    """Return the config with defaults filled in, or raise :class:`InputError`."""
    schema = load_schema()
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise InputError([Problem(source, None, None, "the config must be a mapping of keys")])
    bad = _non_finite(config)
    if bad:
        raise InputError(
            Problem(
                source,
                None,
                None,
                f"key '{key}': value {value} is not allowed; allowed: a finite number",
            )
            for key, value in bad
        )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise InputError(Problem(source, None, None, _describe(e, schema)) for e in errors)
    filled = _fill_defaults(config, schema)
    filled["conditions"] = filled["conditions"] or []
    return filled


def check_config_columns(config: dict, studies: pd.DataFrame, source: str = CONFIG_FILE) -> None:
    """Subgroup and moderator keys must name studies.csv columns; moderators must be numeric."""
    import pandas as pd  # not at module level: the Snakefile imports this module on every start

    problems = []
    columns = list(studies.columns)
    for key in ("subgroups", "moderators"):
        for name in config.get(key, []):
            if name not in columns:
                problems.append(
                    Problem(
                        source,
                        None,
                        None,
                        f"key '{key}': value '{name}' is not a column of data/raw/studies.csv;"
                        " "
                        f"allowed: {', '.join(columns)}",
                    )
                )
            elif key == "moderators" and not pd.api.types.is_numeric_dtype(studies[name]):
                values = pd.to_numeric(studies[name].replace("", None), errors="coerce")
                bad = studies[name][values.isna() & studies[name].astype(str).ne("")]
                if not bad.empty:
                    line = int(bad.index[0]) + 2
                    problems.append(
                        Problem(
                            "data/raw/studies.csv",
                            line,
                            name,
                            f"moderator column must be numeric (got '{bad.iloc[0]}';"
                            " listed in "
                            f"config key 'moderators')",
                        )
                    )
    if problems:
        raise InputError(problems)
