"""ID switches and false tracks as ``hste evaluate`` scores them, for marker overlays.

The events come from the evaluation's own motmetrics accumulator (:mod:`tracker.evaluation`), so
the markers show exactly what the scores count: a SWITCH event marks the track that took over a
target, an FP event a track that matched no target in that frame. Kept apart from
:mod:`tracker.plots.events` so that pictures without markers never import the evaluation.
"""

from __future__ import annotations

import numpy as np

from tracker.evaluation import EvaluationConfig, accumulate, check_frames
from tracker.plots.events import EventRows
from tracker.tracks_io import TrackTable

_KIND_OF_TYPE = {"SWITCH": "switch", "FP": "false"}


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
