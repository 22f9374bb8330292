"""Config files: reading TOML and building validated config dataclasses from its tables.

``build_config(cls, table, where)`` is the one loader every package's configs go through: unknown
keys, values of the wrong type and NaN / infinite numbers are one ``InputError`` line that names
the table and key.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from typing import Any

from common.errors import InputError


def require(condition: bool, message: str) -> None:
    """Raise ``InputError(message)`` unless ``condition``."""
    if not condition:
        raise InputError(message)


def read_toml(path: str | os.PathLike, what: str = "config") -> dict[str, Any]:
    """The tables of a TOML file; InputError (one line) if it is missing or not valid TOML."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a {what} file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    return repr(value)  # int or finite float (validated), both valid TOML as repr writes them


def toml_lines(table: dict[str, Any]) -> list[str]:
    """``key = value`` TOML lines for a flat table (None values left out)."""
    return [f"{key} = {_toml_value(value)}" for key, value in table.items() if value is not None]


def _as_tuple(value: Any) -> Any:
    """Lists (from TOML/JSON) become tuples, recursively, to fit the frozen dataclasses."""
    return tuple(_as_tuple(v) for v in value) if isinstance(value, list | tuple) else value


def _fits(value: Any, default: Any) -> bool:
    """Whether ``value`` has the type of a field's default (an int also fits a float field)."""
    if isinstance(value, bool):
        return isinstance(default, bool)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, tuple):  # fixed length unless the default is empty
        return isinstance(value, tuple) and (not default or len(value) == len(default))
    if isinstance(default, str):
        return isinstance(value, str)
    return True  # None defaults and nested configs are checked by the dataclasses themselves


def _is_finite_setting(value: Any) -> bool:
    """Whether every float in ``value`` (a setting: a number or a tuple) is finite (TOML has
    ``nan`` and ``inf`` literals)."""
    items = value if isinstance(value, tuple) else (value,)
    return all(math.isfinite(item) for item in items if isinstance(item, float))


def build_config(cls: type, data: Any, where: str) -> Any:
    """A config dataclass ``cls`` from a TOML table: InputError (one line, naming ``where``) for
    unknown keys, values of the wrong type, or NaN / infinite numbers. Public for other packages'
    configs."""
    if not isinstance(data, dict):
        raise InputError(f"{where} must be a table of settings")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    require(
        not unknown,
        f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
    )
    values = {key: _as_tuple(value) for key, value in data.items()}
    for f in dataclasses.fields(cls):
        if f.name in values and not _fits(values[f.name], f.default):
            raise InputError(
                f"{where}.{f.name} = {values[f.name]!r}: expected a value like {f.default!r}"
            )
        if f.name in values and not _is_finite_setting(values[f.name]):
            raise InputError(f"{where}.{f.name} = {values[f.name]!r}: must be a finite number")
    try:
        return cls(**values)
    except TypeError as error:
        raise InputError(f"{where}: wrong value type ({error})") from None
