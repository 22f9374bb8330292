"""Atomic file output: write to a temporary file beside the target, rename on success.

A crash, an exception or a kill never leaves a half-written output at the target path. The
temporary file is ``.NAME.<12 hex>.<pid>.tmp.SUFFIX``; one that a killed process left behind
(SIGKILL, power loss) is removed by the next write of the same target: see
:func:`sweep_stale_temps`.
"""

from __future__ import annotations

import glob
import os
import re
import time
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
    sweep_stale_temps(target)
    # A fresh unique name the writer creates itself, so the file gets the usual umask permissions.
    tmp = target.parent / f".{target.stem}.{uuid.uuid4().hex[:12]}.{os.getpid()}.tmp{target.suffix}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


LEGACY_STALE_SECONDS = 600.0
"""Age after which a temp file of the older name without a pid counts as abandoned."""


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # none, or a pid past the OS's range
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_stale_temps(target: Path) -> list[Path]:
    """Remove the temp files of ``target`` that no running writer owns: those whose pid names no
    live process, and those of the older name without a pid once ``LEGACY_STALE_SECONDS`` old.
    Temp files of other targets are never touched. Returns the removed paths."""
    pattern = re.compile(rf"\.{re.escape(target.stem)}\.[0-9a-f]{{12}}(?:\.(\d+))?"
                         rf"\.tmp{re.escape(target.suffix)}")
    removed = []
    for candidate in target.parent.glob(f".{glob.escape(target.stem)}.*.tmp"
                                        f"{glob.escape(target.suffix)}"):
        match = pattern.fullmatch(candidate.name)
        if match is None:
            continue
        try:
            stale = (not _alive(int(match.group(1))) if match.group(1) else
                     time.time() - candidate.stat().st_mtime > LEGACY_STALE_SECONDS)
            if stale:
                candidate.unlink()
                removed.append(candidate)
        except FileNotFoundError:  # its writer renamed or removed it meanwhile
            continue
    return removed


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
