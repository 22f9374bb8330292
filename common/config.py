"""Config files: reading TOML and building validated config dataclasses from its tables.

``build_config(cls, table, where)`` is the one loader every package's configs go through: unknown
keys, values of the wrong type and NaN / infinite numbers are one ``InputError`` line that names
the table and key. The same field list makes a command's options: :func:`cli_options` adds one
click option per setting (help from the dataclass's ``Attributes:`` docstring, constraints from
:func:`option` metadata) and :func:`cli_values` reads the given ones back as a table to merge over
the TOML's (:func:`merged_tables`).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import re
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


def option(choices: tuple[str, ...] | None = None, minimum: float | None = None,
           open_minimum: bool = False, path: bool = False, joined: bool = False
           ) -> dict[str, Any]:
    """Field metadata that narrows a setting's generated CLI option (:func:`cli_options`): one
    of ``choices`` (``joined``: or several joined by ``+``), a number >= ``minimum`` (> with
    ``open_minimum``), or a file ``path``. Use as ``field(default=..., metadata=option(...))``."""
    return {"choices": choices, "minimum": minimum, "open_minimum": open_minimum, "path": path,
            "joined": joined}


_ATTRIBUTE = re.compile(r"^(?P<indent> +)(?P<names>\w+(?:, \w+)*): (?P<text>.*)$")


def documented_attributes(cls: type) -> dict[str, str]:
    """Each setting's description from the ``Attributes:`` section of ``cls``'s docstring
    (Google style: ``name: text`` or ``a, b: text``, continued on deeper-indented lines), as
    plain text (reST roles and literals unwrapped)."""
    doc = inspect.getdoc(cls) or ""
    _, found, section = doc.partition("Attributes:\n")
    described: dict[str, str] = {}
    names: list[str] = []
    indent = None
    for line in section.splitlines() if found else []:
        match = _ATTRIBUTE.match(line)
        if match and (indent is None or len(match["indent"]) == indent):
            indent = len(match["indent"])
            names = match["names"].split(", ")
            for name in names:
                described[name] = match["text"]
        elif line.startswith(" " * ((indent or 0) + 1)) and names:
            for name in names:
                described[name] += " " + line.strip()
        else:
            break
    return {name: re.sub(r":\w+:`~?([^`]*)`", r"\1", text).replace("``", "")
            for name, text in described.items()}


def _nested(field: dataclasses.Field) -> type | None:
    """The config dataclass a field holds as a table (its default factory's), else None."""
    if field.default_factory is dataclasses.MISSING:
        return None
    value = field.default_factory()
    return type(value) if dataclasses.is_dataclass(value) else None


def _option_type(field: dataclasses.Field) -> Any:
    """The click type of a scalar setting, from its default and :func:`option` metadata."""
    import click

    from common.cli_types import JoinedChoice

    meta, default = field.metadata, field.default
    if meta.get("choices"):
        return (JoinedChoice if meta["joined"] else click.Choice)(meta["choices"])
    if meta.get("path"):
        return click.Path(dir_okay=False)
    if isinstance(default, bool) or not isinstance(default, int | float | str):
        raise TypeError(f"setting {field.name} = {default!r}: no CLI option for this type")
    if meta.get("minimum") is None:
        return type(default)
    range_type = click.IntRange if isinstance(default, int) else click.FloatRange
    return range_type(min=meta["minimum"], min_open=meta["open_minimum"])


def cli_options(cls: type, prefix: str = "") -> Any:
    """A decorator adding one click option per setting of the config dataclass ``cls``:
    ``--name`` (``--table-name`` for the settings of a nested table, ``--name/--no-name`` for
    booleans), default None (not given), help from :func:`documented_attributes` with the
    field's default, type from the default and :func:`option` metadata. Read the given values
    back with :func:`cli_values`."""
    import click

    described = documented_attributes(cls)
    decorators = []
    for field in dataclasses.fields(cls):
        table = _nested(field)
        if table is not None:
            decorators.append(cli_options(table, f"{prefix}{field.name}_"))
            continue
        if field.name not in described:
            raise TypeError(f"{cls.__name__}.{field.name}: no description in Attributes:")
        flag = f"--{prefix}{field.name}".replace("_", "-")
        shown = "none" if field.default == "" else field.default
        help_text = f"{described[field.name]} [default: {shown}]"
        if field.metadata.get("joined"):  # its type's metavar does not list the choices
            help_text += f" [choices: {', '.join(field.metadata['choices'])}]"
        if isinstance(field.default, bool):
            decorators.append(click.option(f"{flag}/--no-{flag[2:]}", f"{prefix}{field.name}",
                                           default=None, help=help_text))
        else:
            decorators.append(click.option(flag, f"{prefix}{field.name}", default=None,
                                           type=_option_type(field), help=help_text))

    def decorate(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return decorate


def cli_values(cls: type, values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The settings of ``cls`` given on the command line (options of :func:`cli_options`;
    ``values`` the command's keyword arguments), as a TOML-like table: nested tables as dicts,
    options not given left out."""
    table: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        nested = _nested(field)
        if nested is not None:
            inner = cli_values(nested, values, f"{prefix}{field.name}_")
            if inner:
                table[field.name] = inner
        elif values.get(f"{prefix}{field.name}") is not None:
            table[field.name] = values[f"{prefix}{field.name}"]
    return table


def merged_tables(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` (a TOML table) with ``changes`` written over it, nested tables merged."""
    merged = dict(base)
    for key, value in changes.items():
        both_tables = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merged_tables(merged[key], value) if both_tables else value
    return merged
