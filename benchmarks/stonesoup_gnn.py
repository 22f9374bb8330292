"""Stone Soup's GNN tracker on an hste scene, for ``benchmarks/tracking.py`` (run in its own venv).

Stone Soup is not a dependency of hste-track: this script runs under a separate interpreter that
has ``stonesoup`` installed (``/tmp/ssvenv``), reads the scene .npz (or a detections CSV with
columns ``frame,time,x,y``, as ``benchmarks/foreign.py`` writes) with numpy only, tracks it
with the tutorial GNN set-up (nearly-constant velocity, linear-Gaussian position measurements
with ``--noise`` m std per axis, Mahalanobis distance hypothesiser, ``GNNWith2DAssignment``,
``MultiMeasurementInitiator`` (``--min-points`` updates, 2 in the tutorial), deletion after
``--max-misses`` scans without an update) after a warm-up over the first frames with a separate
tracker, and writes our tracks CSV (confirmed tracks only); it prints the timed loop's wall and
CPU (process) seconds on stdout.

Example:
    /tmp/ssvenv/bin/python benchmarks/stonesoup_gnn.py scene.npz -o ss_tracks.csv
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time

import numpy as np
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import KalmanUpdater

HEADER = "frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed"
WARM_UP_FRAMES = 10


class SceneDetector:
    """Feeds the scene's detections to Stone Soup, one frame per time step."""

    def __init__(self, path: str, measurement_model: LinearGaussian) -> None:
        if path.endswith(".csv"):
            self._read_csv(path)
        else:
            with np.load(path) as data:
                self.frame_times = data["frame_times"]
                self.det_xy = data["det_xy"].astype(float)
                self.det_offsets = data["det_offsets"]
        self.model = measurement_model
        self.start = datetime.datetime(2026, 1, 1)

    def _read_csv(self, path: str) -> None:
        """Frames 1..last of a ``frame,time,x,y`` CSV (rows in frame order)."""
        table = np.genfromtxt(path, delimiter=",", names=True)
        frame = table["frame"].astype(np.int64)
        count = int(frame.max())
        self.det_xy = np.stack([table["x"], table["y"]], axis=1)
        self.det_offsets = np.searchsorted(frame, np.arange(1, count + 2))
        first = self.det_offsets[:-1].clip(max=len(frame) - 1)  # a row of each frame
        self.frame_times = np.interp(np.arange(1, count + 1), frame[first], table["time"][first])

    def __iter__(self):
        for frame, seconds in enumerate(self.frame_times):
            when = self.start + datetime.timedelta(seconds=float(seconds))
            rows = self.det_xy[self.det_offsets[frame]:self.det_offsets[frame + 1]]
            yield when, {Detection(xy.reshape(2, 1), timestamp=when, measurement_model=self.model)
                         for xy in rows}


def build_tracker(detector: SceneDetector, noise_diff_coeff: float, max_misses: int,
                  initial_speed_std: float, min_points: int) -> MultiTargetTracker:
    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(noise_diff_coeff), ConstantVelocity(noise_diff_coeff)])
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(detector.model)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=3)
    associator = GNNWith2DAssignment(hypothesiser)
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=max_misses)
    noise = detector.model.noise_covar[0, 0]
    prior = GaussianState(np.zeros((4, 1)), np.diag([noise, initial_speed_std**2] * 2))
    initiator = MultiMeasurementInitiator(prior_state=prior, measurement_model=detector.model,
                                          deleter=deleter, data_associator=associator,
                                          updater=updater, min_points=min_points)
    return MultiTargetTracker(initiator=initiator, deleter=deleter, detector=detector,
                              data_associator=associator, updater=updater)


def common_arguments(description: str) -> argparse.ArgumentParser:
    """The options every Stone Soup benchmark script shares (scene, output, models, management)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("scene")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--noise", type=float, default=5.0, help="position noise std, m")
    parser.add_argument("--noise-diff-coeff", type=float, default=1.0, help="q, m^2/s^3")
    parser.add_argument("--max-misses", type=int, default=3)
    parser.add_argument("--initial-speed-std", type=float, default=20.0)
    parser.add_argument("--min-points", type=int, default=2,
                        help="updates before the initiator confirms a track (tutorial: 2)")
    return parser


def track_and_write(tracker, warm_up, output: str) -> None:
    """Run ``warm_up`` over the first frames, then time ``tracker`` over the scene; write its
    tracks CSV (atomically) and print the timed loop's wall and CPU seconds."""
    for _ in zip(range(WARM_UP_FRAMES), warm_up, strict=False):
        pass  # first calls of every code path happen before the timed run
    ids: dict[str, int] = {}
    lines = [HEADER]
    started, started_cpu = time.perf_counter(), time.process_time()
    for frame, (_, tracks) in enumerate(tracker, start=1):
        for track in tracks:
            number = ids.setdefault(track.id, len(ids) + 1)
            mean, covar = track.state_vector.ravel(), track.covar
            lines.append(f"{frame},{number},{mean[0]:.4f},{mean[2]:.4f},{mean[1]:.4f},"
                         f"{mean[3]:.4f},{covar[0, 0]:.6g},{covar[0, 2]:.6g},{covar[2, 2]:.6g},1")
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    folder = os.path.dirname(os.path.abspath(output))
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".csv", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(handle.name, output)
    print(f"{elapsed:.6f} {elapsed_cpu:.6f}")


def main() -> None:
    args = common_arguments(__doc__.split("\n")[0]).parse_args()
    model = LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * args.noise**2)
    detector = SceneDetector(args.scene, model)
    tracker, warm_up = (build_tracker(detector, args.noise_diff_coeff, args.max_misses,
                                      args.initial_speed_std, args.min_points) for _ in range(2))
    track_and_write(tracker, warm_up, args.output)


if __name__ == "__main__":
    main()
