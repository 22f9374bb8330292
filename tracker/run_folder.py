"""The ``hste train`` output folder: what a fresh run may replace and what a resume may change.

A folder holding a run (``checkpoint.pt``, ``best.pt`` or ``log.csv``) is never replaced by
accident: a fresh run into it is refused unless ``--overwrite`` is given, and a resume says what
it will do, or refuses options it cannot honour.
"""

from __future__ import annotations

from pathlib import Path

from common.errors import InputError

RUN_FILES = ("checkpoint.pt", "best.pt", "log.csv")
"""The files a training run writes into its folder."""


def prepare_fresh_run(out: Path, overwrite: bool) -> None:
    """Before a fresh (not resumed) run into ``out``: the folder is created (InputError if it
    cannot be, say under a file); InputError if it holds a run, unless
    ``overwrite``, in which case that run's files are removed first (so a kill cannot leave a
    mix of the old run and the new one)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{out}: cannot create the output folder ({error.strerror})") from None
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if not existing:
        return
    if not overwrite:
        raise InputError(f"{out}: holds a training run ({', '.join(existing)}); use --resume to "
                         "continue it, a new --out, or --overwrite to replace it")
    for name in existing:
        (out / name).unlink()


def check_resume_options(config_given: bool, overwrite: bool) -> None:
    """InputError for options a resume cannot honour: ``--config`` (the checkpoint holds the
    config) and ``--overwrite`` (it would discard what is resumed)."""
    if config_given:
        raise InputError("--config is not read with --resume (the checkpoint holds the run's "
                         "config; only --epochs may change): drop --config")
    if overwrite:
        raise InputError("--overwrite and --resume contradict each other: choose one")


def epochs_left(out: Path, done: int, epochs: int) -> int:
    """Epochs a resume will train: ``epochs - done`` (``done`` = epochs in the checkpoint).
    InputError when ``epochs`` is below ``done``: training would silently do nothing."""
    if epochs < done:
        raise InputError(f"{out / 'checkpoint.pt'}: holds {done} finished epoch(s); --epochs "
                         f"{epochs} would train nothing (give --epochs > {done} to train more)")
    return epochs - done


def saved_progress(content: dict, path: Path) -> tuple[int, list[dict], float]:
    """``(epoch, log, best_mota)`` of a training checkpoint dict: the last finished 0-based
    epoch (an integer >= 0), the log rows (a list of dicts) and the best validation MOTA (a
    number). InputError naming the field when one is missing or of another kind."""
    epoch, log, best = content.get("epoch"), content.get("log"), content.get("best_mota")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise InputError(f"{path}: checkpoint epoch must be an integer >= 0, got {epoch!r}")
    if not isinstance(log, list) or not all(isinstance(row, dict) for row in log):
        raise InputError(f"{path}: checkpoint lacks its training log (a list of rows)")
    if isinstance(best, bool) or not isinstance(best, int | float):
        raise InputError(f"{path}: checkpoint best_mota must be a number, got {best!r}")
    return epoch, list(log), float(best)
