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


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: equal once resolved (symlinks, ``..``), or, when both
    exist, the same inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike | None],
                              inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """InputError when an output path names the same file as an input or as another output
    (``None`` entries are skipped): writing it would destroy that input (``hste track scene.npz
    -o scene.npz``) or one output would replace the other (``hste simulate -o s.npz --mot s.npz``).

    Every command calls this with all the files it writes and reads, before it reads anything.
    """
    sources = [Path(path) for path in inputs if path is not None]
    written: list[Path] = []
    for output in (Path(path) for path in outputs if path is not None):
        if any(_same_file(output, source) for source in sources):
            raise InputError(f"{output}: is also an input of this command; writing it would "
                             "destroy that input")
        if any(_same_file(output, other) for other in written):
            raise InputError(f"{output}: given for two outputs of this command; one would "
                             "overwrite the other")
        written.append(output)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
