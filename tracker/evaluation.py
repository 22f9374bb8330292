"""Scoring tracks against a scene's ground truth: CLEAR-MOT and identity metrics, GOSPA and the
paper's association metrics, per tracks file; several files give one comparison table.

- py-motmetrics (1.4.0 API that works on numpy 2 / pandas 2: ``MOTAccumulator.update``,
  ``metrics.create().compute_many``, ``distances.norm2squared_matrix``): MOTA, MOTP, IDF1,
  ID switches, mostly tracked / lost, FP, FN. A track and a target can match when they are at
  most ``match_distance`` m apart; the accumulator gets Euclidean distances (the square root of
  ``norm2squared_matrix``), so MOTP is the mean matched distance in metres. By default only
  targets inside some sensor's field of view are scored (:func:`scored_targets`).
- GOSPA (Rahmathullah et al. 2017) per frame with cut-off c, p = 2, alpha = 2:
  ``sqrt(min over assignments of sum d^2 + c^2/2 (missed + false))`` in metres, and its mean.
- Association accuracy per frame, with :func:`tracker.perm.metrics.prop_wrong` and
  ``prop_any_wrong``: each target is owned by the one track its identity matching (the track
  that covers it in most frames, one-to-one, Hungarian) gives it; in a frame, position j of the
  "permutation" is a target present there, the true index its owner, the predicted index the
  track matched to it in that frame (none: -1). Prop. wrong is the fraction of the frame's
  targets held by another track or by none; Prop. any wrong is 1 if any is. It applies to frames
  with at least one target; others are NaN.
- On request (``EvaluationConfig.hota``), HOTA, DetA and AssA by TrackEval at the same match
  distance (:mod:`tracker.hota`, an optional dependency).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import motmetrics as mm
import numpy as np
import torch

from common.errors import InputError
from common.geometry import in_view, to_polar
from tracker.association.gating import pairs_within, solve_gated
from tracker.hota import HOTA_COLUMNS, hota_scores, sequence_data
from tracker.perm import hungarian
from tracker.perm.metrics import prop_any_wrong, prop_wrong
from tracker.sensors import SensorModel
from tracker.tracks_io import TrackTable

MOT_METRICS = {
    "mota": "MOTA",
    "motp": "MOTP_m",
    "idf1": "IDF1",
    "num_switches": "IDSW",
    "mostly_tracked": "MT",
    "mostly_lost": "ML",
    "num_false_positives": "FP",
    "num_misses": "FN",
    "num_objects": "GT",
}
"""motmetrics metric name -> column name in our tables and JSON."""

PER_FRAME_COLUMNS = ("frame", "targets", "tracks", "gospa", "gospa_localisation", "gospa_missed",
                     "gospa_false", "prop_wrong", "prop_any_wrong")


@dataclass(frozen=True)
class EvaluationConfig:
    """Scoring settings.

    The 50 m defaults suit the radar presets, whose cross-range noise reaches 30 m at far range;
    point-cloud scenes (decimetre noise, targets metres apart) want about 5 m.

    Attributes:
        match_distance: m, largest track-target distance that counts as a match (motmetrics).
        gospa_cutoff: c in m.
        confirmed_only: score only rows of confirmed tracks (tentative rows dropped).
        visible_only: score only targets inside some sensor's field of view.
        hota: also HOTA, DetA and AssA (:mod:`tracker.hota`, by TrackEval at the same match
            distance; NaN when TrackEval is not installed).
    """

    match_distance: float = 50.0
    gospa_cutoff: float = 50.0
    confirmed_only: bool = True
    visible_only: bool = True
    hota: bool = False


POINT_CLOUD_SCORING = EvaluationConfig(match_distance=5.0, gospa_cutoff=5.0)
"""Scoring of point-cloud scenes: decimetre noise, targets a few metres apart."""


def scene_scoring(scenario) -> EvaluationConfig:
    """The scoring a scene wants: :data:`POINT_CLOUD_SCORING` when every sensor of
    ``scenario`` is a point cloud (``kind == "pointcloud"``), else the 50 m defaults."""
    if scenario.sensors and all(sensor.kind == "pointcloud" for sensor in scenario.sensors):
        return POINT_CLOUD_SCORING
    return EvaluationConfig()


@dataclass(frozen=True)
class Evaluation:
    """One tracks file's scores: ``summary`` (name -> value), ``per_frame`` (name -> (T,))."""

    summary: dict[str, float]
    per_frame: dict[str, np.ndarray]


def check_frames(table: TrackTable, num_frames: int, name: str) -> None:
    """InputError when the tracks ``table`` has rows after the scene's last frame."""
    if len(table) and int(table.frame.max()) > num_frames:
        raise InputError(f"{name}: track frame {int(table.frame.max())} is outside the scene "
                         f"(frames 1..{num_frames})")


def _frame_slices(frame: np.ndarray, num_frames: int) -> np.ndarray:
    """(num_frames + 1,) row offsets of 1-based, sorted ``frame`` values."""
    return np.searchsorted(frame, np.arange(1, num_frames + 2))


def scored_targets(scenario, frame: int, visible_only: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The targets scored in ``frame`` (0-based): ids (N,) and positions (N, 2) m.

    With ``visible_only`` only targets inside at least one sensor's field of view count: no
    tracker can follow a target that no sensor sees.
    """
    truth = scenario.frame_truth(frame)
    positions = truth.state[:, :2]
    if not visible_only:
        return truth.id, positions
    seen = np.zeros(len(truth), dtype=bool)
    sensors = scenario.sensors
    if not sensors:  # a truth file without sensors: every listed target counts
        return truth.id, positions
    for sensor in sensors:
        seen |= _visible(sensor, positions)
    return truth.id[seen], positions[seen]


def _visible(sensor, positions: np.ndarray) -> np.ndarray:
    """(N,) bool: positions (N, 2) m in the view of a tracker sensor model or of a scene's
    (polar) sensor config."""
    if isinstance(sensor, SensorModel):
        return sensor.visible(positions)
    return in_view(sensor, *to_polar(sensor, positions))


def frame_distances(scenario, table: TrackTable, match_distance: float,
                    visible_only: bool = True
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per frame of ``scenario``, in order: the scored target ids (N,) (as
    :func:`scored_targets` chooses them), the track ids (M,) of ``table``'s rows in that frame
    and their Euclidean distances (N, M) in m, NaN where a pair is more than ``match_distance``
    m apart (a pair exactly ``match_distance`` apart can match)."""
    offsets = _frame_slices(table.frame, scenario.num_frames)
    for frame in range(scenario.num_frames):
        ids, positions = scored_targets(scenario, frame, visible_only)
        rows = slice(offsets[frame], offsets[frame + 1])
        squared = mm.distances.norm2squared_matrix(positions, table.positions[rows],
                                                   max_d2=match_distance**2)
        yield ids, table.id[rows], np.sqrt(squared)


def accumulate(scenario, table: TrackTable, match_distance: float,
               visible_only: bool = True) -> mm.MOTAccumulator:
    """A motmetrics accumulator with one update per frame of ``scenario`` (the pairs of
    :func:`frame_distances`)."""
    accumulator = mm.MOTAccumulator(auto_id=False)
    frames = frame_distances(scenario, table, match_distance, visible_only)
    for frame, (ids, tracks, distances) in enumerate(frames):
        accumulator.update(ids.tolist(), tracks.tolist(), distances, frameid=frame)
    return accumulator


def gospa(truth: np.ndarray, estimates: np.ndarray, cutoff: float) -> tuple[float, float, int, int]:
    """GOSPA with p = 2, alpha = 2 between truth (N, 2) and estimates (M, 2) positions in m.

    Returns:
        ``(gospa, localisation, missed, false)``: the metric (m), the sum of squared distances
        of the assigned pairs (m^2), the numbers of missed targets and false estimates.
    """
    pairs = pairs_within(truth, estimates, cutoff)
    half = np.full(len(truth), -cutoff**2 / 2.0), np.full(len(estimates), -cutoff**2 / 2.0)
    assignment = solve_gated(pairs, -pairs.mahalanobis_sq, *half)
    assigned = assignment >= 0
    localisation = float(np.sum((truth[assigned] - estimates[assignment[assigned]]) ** 2))
    missed, false = int(np.sum(~assigned)), int(len(estimates) - np.sum(assigned))
    return float(np.sqrt(localisation + cutoff**2 / 2.0 * (missed + false))), localisation, \
        missed, false


def _owners(events) -> dict[int, int]:
    """Target id -> the track id its one-to-one identity matching gives it (most shared frames)."""
    matches = events[events.Type.isin(["MATCH", "SWITCH"])]
    if matches.empty:
        return {}
    targets, target_index = np.unique(matches.OId.to_numpy(np.int64), return_inverse=True)
    tracks, track_index = np.unique(matches.HId.to_numpy(np.int64), return_inverse=True)
    counts = np.zeros((targets.size, tracks.size))
    np.add.at(counts, (target_index, track_index), 1.0)
    # A batch of one matrix: counts tie often, and batches break ties by lapx alone (a single
    # small 2-D matrix may go to scipy, whose tie-breaking differs; tracker.perm.lsap).
    chosen = hungarian(torch.from_numpy(counts[None])).numpy()[0]
    rows, cols = np.nonzero(chosen * (counts > 0))
    return dict(zip(targets[rows].tolist(), tracks[cols].tolist(), strict=True))


def association_accuracy(scenario, accumulator: mm.MOTAccumulator, visible_only: bool = True
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame Prop. wrong and Prop. any wrong (T,) each, NaN for frames without targets."""
    events = accumulator.mot_events.reset_index()
    owners = _owners(events)
    matches = events[events.Type.isin(["MATCH", "SWITCH"])]
    matched = {(int(f), int(o)): int(h) for f, o, h in
               zip(matches.FrameId, matches.OId, matches.HId, strict=True)}
    wrong = np.full(scenario.num_frames, np.nan)
    any_wrong = np.full(scenario.num_frames, np.nan)
    for frame in range(scenario.num_frames):
        ids = scored_targets(scenario, frame, visible_only)[0].tolist()
        if not ids:
            continue
        predicted = torch.tensor([matched.get((frame, t), -1) for t in ids])
        target = torch.tensor([owners.get(t, -2) for t in ids])
        wrong[frame] = float(prop_wrong(predicted, target))
        any_wrong[frame] = float(prop_any_wrong(predicted, target))
    return wrong, any_wrong


def evaluate_many(scenario, tables: dict[str, TrackTable],
                  config: EvaluationConfig | None = None) -> dict[str, Evaluation]:
    """Score several tracks tables (name -> table) against one scene."""
    config = config or EvaluationConfig()
    for name, table in tables.items():
        check_frames(table, scenario.num_frames, name)
    chosen = {name: table.take(table.confirmed) if config.confirmed_only else table
              for name, table in tables.items()}
    accumulators = {name: accumulate(scenario, table, config.match_distance, config.visible_only)
                    for name, table in chosen.items()}
    frame_table = mm.metrics.create().compute_many(
        list(accumulators.values()), metrics=list(MOT_METRICS), names=list(accumulators))
    results = {}
    for name, table in chosen.items():
        per_frame = _per_frame(scenario, table, accumulators[name], config)
        summary = {column: float(frame_table.loc[name, metric])
                   for metric, column in MOT_METRICS.items()}
        summary.update(
            GOSPA_mean=float(np.mean(per_frame["gospa"])),
            prop_wrong_mean=_nanmean(per_frame["prop_wrong"]),
            prop_any_wrong_mean=_nanmean(per_frame["prop_any_wrong"]),
            frames=float(scenario.num_frames),
            tracks=float(np.unique(table.id).size),
        )
        if config.hota:
            frames = frame_distances(scenario, table, config.match_distance, config.visible_only)
            summary.update(hota_scores(sequence_data(frames, config.match_distance)))
        results[name] = Evaluation(summary, per_frame)
    return results


def _nanmean(values: np.ndarray) -> float:
    """Mean over finite entries; NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _per_frame(scenario, table: TrackTable, accumulator: mm.MOTAccumulator,
               config: EvaluationConfig) -> dict[str, np.ndarray]:
    """The per-frame columns of :data:`PER_FRAME_COLUMNS` for one table."""
    offsets = _frame_slices(table.frame, scenario.num_frames)
    rows = []
    for frame in range(scenario.num_frames):
        truth = scored_targets(scenario, frame, config.visible_only)[1]
        estimates = table.positions[offsets[frame]:offsets[frame + 1]]
        rows.append((frame + 1, len(truth), len(estimates),
                     *gospa(truth, estimates, config.gospa_cutoff)))
    columns = np.array(rows, dtype=float).reshape(-1, 7).T
    wrong, any_wrong = association_accuracy(scenario, accumulator, config.visible_only)
    per_frame = dict(zip(PER_FRAME_COLUMNS[:7], columns, strict=True))
    per_frame.update(prop_wrong=wrong, prop_any_wrong=any_wrong)
    return per_frame


TABLE_COLUMNS = ("MOTA", "MOTP_m", "IDF1", *HOTA_COLUMNS, "IDSW", "MT", "ML", "FP", "FN",
                 "GOSPA_mean", "prop_wrong_mean", "prop_any_wrong_mean")
"""The columns of :func:`format_table`, keys of :attr:`Evaluation.summary` (the HOTA ones only
when the evaluation computed them)."""


def format_table(results: dict[str, Evaluation]) -> str:
    """The comparison table: one row per tracks file, the columns of ``TABLE_COLUMNS`` that the
    summaries have."""
    width = max(len("tracks"), *(len(name) for name in results))
    columns = [c for c in TABLE_COLUMNS if all(c in r.summary for r in results.values())]
    header = f"{'tracks':<{width}} " + " ".join(f"{c:>{max(len(c), 7)}}" for c in columns)
    lines = [header]
    for name, result in results.items():
        cells = []
        for column in columns:
            value = result.summary[column]
            text = f"{value:.0f}" if column in ("IDSW", "MT", "ML", "FP", "FN") else f"{value:.3f}"
            cells.append(f"{text:>{max(len(column), 7)}}")
        lines.append(f"{name:<{width}} " + " ".join(cells))
    return "\n".join(lines)
