"""Read the small CSV files that the plots draw (training logs, per-frame metrics, benchmarks).

Columns come back as numpy arrays: numeric columns as float64, any other column as strings.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from common.errors import InputError


def read_columns(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read a CSV with a header line into ``{column: array}``, in file order.

    InputError for a missing or unreadable file, a file without data rows, ragged rows, or a
    missing ``required`` column. Empty cells in numeric columns become NaN.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read CSV ({error})") from None
    if len(rows) < 2:
        raise InputError(f"{path}: no data rows (need a header line and at least one row)")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if any(len(row) != len(header) for row in body):
        raise InputError(f"{path}: rows do not all have the {len(header)} columns of the header")
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header)}"
        )
    cells = np.asarray(body, dtype=str).reshape(len(body), len(header))
    return {name: _typed(cells[:, j]) for j, name in enumerate(header)}


def numeric_columns(table: dict[str, np.ndarray], exclude: tuple[str, ...] = ()) -> list[str]:
    """Names of the float columns of ``table`` that are not in ``exclude``, in file order."""
    return [
        name for name, values in table.items() if values.dtype.kind == "f" and name not in exclude
    ]


def require_numbers(label: str, name: str, values: np.ndarray, every: bool = False) -> None:
    """InputError unless column ``name`` of ``label`` holds numbers with at least one finite
    value (with ``every``: only finite values), so that a picture has something to draw."""
    finite = np.isfinite(values) if values.dtype.kind == "f" else None
    if finite is None:
        raise InputError(f"{label}: column {name} must hold numbers, got {values[:3].tolist()}")
    if not (finite.all() if every else finite.any()):
        raise InputError(f"{label}: column {name} holds "
                         f"{'NaN or infinite values' if every else 'no finite value to draw'}")


def _typed(values: np.ndarray) -> np.ndarray:
    """Column as float64 when every non-empty cell parses as a number, else as stripped strings."""
    stripped = np.char.strip(values)
    try:
        return np.where(stripped == "", "nan", stripped).astype(np.float64)
    except ValueError:
        return stripped
