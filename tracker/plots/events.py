"""ID switches and false tracks, placed on the tracks for marker overlays.

:mod:`tracker.plots.scored_events` makes them from the evaluation; this module only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import InputError
from tracker.plots.layers import PointRows, recent


@dataclass(frozen=True)
class EventRows:
    """Evaluation events: frame (n,) 0-based, track id (n,), kind (n,) "switch" or "false"."""

    frame: np.ndarray
    ids: np.ndarray
    kind: np.ndarray

    def located(self, tracks: PointRows) -> PlacedEvents:
        """Each event at its track's position in its frame; InputError for unknown (frame, id)."""
        stride = int(max(tracks.ids.max(initial=0), self.ids.max(initial=0))) + 1
        keys = tracks.frame * stride + tracks.ids
        wanted = self.frame * stride + self.ids
        where = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = (keys[where] == wanted) if len(keys) else np.zeros(len(wanted), bool)
        if not found.all():
            bad = int(np.argmin(found))
            raise InputError(
                f"event at frame {self.frame[bad] + 1} names track {self.ids[bad]}, which is not "
                "in the tracks file (events of another run?)"
            )
        order = np.argsort(self.frame, kind="stable")
        return PlacedEvents(self.frame[order], self.kind[order], tracks.xy[where[order]])


@dataclass(frozen=True)
class PlacedEvents:
    """Events sorted by 0-based frame (n,), with kind (n,) and position xy (n, 2) m."""

    frame: np.ndarray
    kind: np.ndarray
    xy: np.ndarray

    def window(self, k: int, length: int) -> slice:
        """Events of frames k - length + 1 .. k."""
        return recent(self.frame, k, length)

