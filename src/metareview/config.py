"""Validate ``config.yaml`` against its JSON schema and fill in defaults.

Errors name the key, the value and what is allowed, e.g.
``config.yaml: key 'tau2_method': value 'FOO' is not allowed; use one of DL, REML, ...``.
"""

from __future__ import annotations

import copy
import difflib
from importlib import resources

import jsonschema
import pandas as pd
import yaml

from metareview.validation import InputError, Problem

CONFIG_FILE = "config.yaml"


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
        allowed = f"allowed: {error.validator_value}"
    elif error.validator == "pattern":
        allowed = f"allowed: a slug matching {error.validator_value}"
    else:
        allowed = error.message
    return f"key '{key}': value {error.instance!r} is not allowed; {allowed}"


def validate_config(config: dict | None, source: str = CONFIG_FILE) -> dict:
    """Return the config with defaults filled in, or raise :class:`InputError`."""
    schema = load_schema()
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise InputError([Problem(source, None, None, "the config must be a mapping of keys")])
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise InputError(Problem(source, None, None, _describe(e, schema)) for e in errors)
    filled = _fill_defaults(config, schema)
    filled["conditions"] = filled["conditions"] or []
    return filled


def check_config_columns(config: dict, studies: pd.DataFrame, source: str = CONFIG_FILE) -> None:
    """Subgroup and moderator keys must name studies.csv columns; moderators must be numeric."""
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
