"""Loading and checking the benchmarks' flat config dataclasses (sorting, jigsaw)."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from common.config import build_config
from common.errors import InputError

Config = TypeVar("Config")


def load_flat_toml(cls: type[Config], path: str | Path, **overrides: Any) -> Config:
    """An instance of the dataclass ``cls`` from a TOML file of top-level ``key = value`` lines
    (keys = field names), with ``overrides`` on top.

    Raises:
        InputError: unreadable file, not TOML, keys that are not fields of ``cls``, values of
            another type than the field's default, NaN or infinite numbers
            (:func:`sim.config.build_config`).
    """
    try:
        values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"cannot read config {path}: {error}") from None
    known = {field.name for field in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{path}: unknown config keys {unknown}; known: {sorted(known)}")
    return build_config(cls, {**values, **overrides}, str(path))


def require_at_least_one(config: Any, names: tuple[str, ...]) -> None:
    """InputError unless every field in ``names`` of ``config`` is >= 1."""
    for name in names:
        if getattr(config, name) < 1:
            raise InputError(f"{name} must be >= 1, got {getattr(config, name)}")
