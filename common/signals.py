"""SIGTERM handled like Ctrl-C: while :func:`terminate_like_interrupt` is active, SIGTERM raises
:class:`Terminated` (a ``KeyboardInterrupt``) in the main thread, so every ``finally`` runs:
:func:`common.atomic.atomic_path` removes its temporary file, the target stays as it was."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TERMINATED_EXIT_STATUS = 128 + signal.SIGTERM
"""The exit status of a process ended by SIGTERM (shells report 143)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (raised by the handler of :func:`terminate_like_interrupt`)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(f"signal {signum}")


@contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated`; the previous handler is restored
    afterwards. Outside the main thread (where Python cannot set handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
