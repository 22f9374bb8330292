"""The one way checkpoints are read: ``torch.load(weights_only=True)`` with every failure turned
into one InputError line that never passes on torch's advice to load with
``weights_only=False`` (which would run whatever code a crafted file holds).

torch is imported on first use, so importing ``common`` stays light.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.errors import InputError


def _reason(error: BaseException) -> str:
    """A short, safe reason for a failed load: torch's "WeightsUnpickler error: ..." line when
    there is one (it names the refused object), else the exception type."""
    for line in str(error).splitlines():
        if line.strip().startswith("WeightsUnpickler error:"):
            return line.strip()
    return type(error).__name__


def load_weights_only(path: str | os.PathLike, what: str = "a checkpoint") -> Any:
    """The object saved at ``path`` (tensors, dicts, lists, numbers, strings only), on the CPU;
    ``what`` names the expected file in messages ("an hste-track checkpoint").

    Raises:
        InputError: a missing file, or one that is not a torch file of plain values (another
            format, truncated, or holding objects that weights-only loading refuses).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load raises anything on a foreign file
        raise InputError(f"{path}: not {what} ({_reason(error)}); refused without "
                         "running anything in it") from None


def restore_state(target: Any, state: Any, path: str | os.PathLike, problem: str) -> None:
    """``target.load_state_dict(state)`` (a module or an optimiser) from the checkpoint at
    ``path``; when the saved state does not fit ``target`` (missing keys, other shapes, other
    parameter groups, not a dict), InputError "PATH: PROBLEM (first line of the reason)"."""
    try:
        target.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{path}: {problem} ({reason})") from None
