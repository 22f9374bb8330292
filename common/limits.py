"""Numbers with limits: the one place that checks a setting's range and a job's memory need.

- :func:`check_number`: a setting is a real number (an integer where one is needed), finite and
  inside its range, else one ``InputError`` line naming it. NaN fails every comparison and
  ``inf > 0`` holds, so plain ``value > 0`` checks let both through; this one does not.
- :func:`require_memory`: refuse, before allocating, a job whose arrays cannot fit in this
  machine's memory, saying how much it would need (``--frames 10**12`` would ask numpy for
  terabytes and die after minutes, or crash at once with an overflow).
"""

from __future__ import annotations

import math
import os

from common.errors import InputError


def check_number(name: str, value: object, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, integer: bool = False) -> None:
    """InputError unless ``value`` is a finite int or float (an int when ``integer``; never a
    bool) with ``low <= value <= high`` (``low < value`` when ``low_open``; ``None``: no bound).
    """
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise InputError(f"{name} must be {'an integer' if integer else 'a number'}, "
                         f"got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise InputError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise InputError(f"{name} must be <= {high:g}, got {value!r}")


def memory_bytes() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(count: float) -> str:
    """``count`` bytes for people: ``'512 B'``, ``'3.2 GiB'``, ``'7.0 TiB'``, ``'1e+300 B'``."""
    if not math.isfinite(count) or count >= 1024.0**7:
        return f"{count:.3g} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024.0:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024.0
    return f"{count:.1f} EiB"


def require_memory(what: str, nbytes: float) -> None:
    """InputError when ``what`` would need ``nbytes`` (an estimate, float: may be huge or inf)
    of memory, more than this machine has; call it before allocating."""
    available = memory_bytes()
    if not nbytes <= available:
        raise InputError(f"{what} would need about {format_bytes(nbytes)} of memory, more than "
                         f"this machine's {format_bytes(available)}; make it smaller")
