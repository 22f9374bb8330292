"""Atomic file output: write to a temporary file beside the target, rename on success.

A crash, an exception or a kill never leaves a half-written output at the target path.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from common.errors import InputError


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path`` with the same suffix; move it onto ``path`` on success.

    The parent folder is created if needed. If the block raises, the temporary file is removed and
    ``path`` is left untouched. The suffix is kept so that writers which pick a format from the name
    (``numpy.savez``, ``matplotlib.savefig``, Pillow) behave as they would on ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fresh unique name the writer creates itself, so the file gets the usual umask permissions.
    tmp = target.parent / f".{target.stem}.{uuid.uuid4().hex[:12]}.tmp{target.suffix}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike | None],
                              inputs: Iterable[str | os.PathLike | None]) -> None:
    """InputError when an output path names the same file as an input (``None`` entries are
    skipped): writing it would destroy the input, e.g. ``hste track scene.npz -o scene.npz``."""
    sources = {Path(path).resolve() for path in inputs if path is not None}
    for output in outputs:
        if output is not None and Path(output).resolve() in sources:
            raise InputError(f"{output}: is also an input of this command; writing it would "
                             "destroy that input")


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
