"""ID switches and false tracks from the evaluation, placed on the tracks for marker overlays.

The events come from the evaluation's own motmetrics accumulator (:mod:`tracker.evaluation`), so
the markers show exactly what the scores count: a SWITCH event marks the track that took over a
target, an FP event a track that matched no target in that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import InputError
from tracker.evaluation import EvaluationConfig, accumulate, check_frames
from tracker.plots.layers import PointRows, recent
from tracker.tracks_io import TrackTable

_KIND_OF_TYPE = {"SWITCH": "switch", "FP": "false"}


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


def evaluation_events(scene, table: TrackTable, config: EvaluationConfig | None = None,
                      name: str = "tracks") -> EventRows:
    """The ID switches and false-track frames of ``table`` scored against ``scene``'s truth.

    Scored as ``hste evaluate`` scores: rows sorted by frame, tentative rows dropped when
    ``config.confirmed_only``, matches within ``config.match_distance`` m (default config:
    the evaluation's defaults).
    """
    config = config or EvaluationConfig()
    check_frames(table, scene.num_frames, name)
    if config.confirmed_only:
        table = table.take(np.asarray(table.confirmed, bool))
    table = table.take(np.argsort(table.frame, kind="stable"))
    events = accumulate(scene, table, config.match_distance).mot_events.reset_index()
    events = events[events.Type.isin(list(_KIND_OF_TYPE))]
    return EventRows(
        events.FrameId.to_numpy(np.int64), events.HId.to_numpy(np.float64).astype(np.int64),
        events.Type.map(_KIND_OF_TYPE).to_numpy(str),
    )
