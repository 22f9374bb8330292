"""The tracker's per-scan assignment cost: ``solve_gated`` on the association problems of scenes.

Usage:
    .venv/bin/python benchmarks/assignment_scan.py [--seed 1] [--rounds 21] [--large-frames 20]
        [--json docs/results/tracker/assignment_scan.json]

The scenes of ``benchmarks/tracking.py`` (10 targets, 50 targets, 50 clutter, 1000 targets) are
tracked once by ``gnn``, recording every association call's gated pairs and gnn scores. Then
``tracker.association.gating.solve_gated`` (the components of the gate graph, the closed-form
stars, the exact Hungarian solve of the other components) is timed on every recorded problem of
a scene, ``--rounds`` rounds, scenes alternating within each round. Reported per scene: the
median over rounds of the assignment time per frame (all calls of a frame: confirmed and
tentative stages), the number of components solved by Hungarian per frame, and a digest of all
answers, so that two code versions can be checked for identical answers (run the script in each
and compare). Times are process CPU time (all threads; lapx's batch kernel may use 2), which
other processes on a shared machine disturb far less than wall-clock time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from tracking import large_config, scene_config  # noqa: E402

from common.atomic import write_text_atomic  # noqa: E402
from sim import generate  # noqa: E402
from tracker.association import gating  # noqa: E402
from tracker.association.gnn import GnnAssociator, gnn_scores  # noqa: E402
from tracker.pipeline import Tracker, TrackerConfig  # noqa: E402
from tracker.scene_source import SceneSource  # noqa: E402


class RecordingGnn(GnnAssociator):
    """gnn, recording each call's (pairs, pair scores, missed scores, clutter scores)."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list = []

    def associate(self, inputs):
        pairs = gating.gate(inputs, self.config.gate_probability)
        scores = gnn_scores(inputs, pairs, self.config)
        self.problems.append((pairs, scores.pair, scores.missed, scores.clutter))
        return gating.solve_gated(pairs, scores.pair, scores.missed, scores.clutter)


def exact_components(problems: list) -> int:
    """Components of the recorded problems that are not stars (solved by Hungarian)."""
    total = 0
    for pairs, *_ in problems:
        if pairs.track_index.size == 0:
            continue
        tracks, detections, count = pairs.components()
        sizes = np.bincount(tracks, minlength=count), np.bincount(detections, minlength=count)
        total += int(np.sum((sizes[0] > 1) & (sizes[1] > 1)))
    return total


def digest(problems: list) -> str:
    answers = [gating.solve_gated(*problem) for problem in problems]
    return hashlib.sha256(b"".join(answer.tobytes() for answer in answers)).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--large-frames", type=int, default=20)
    parser.add_argument("--json", type=Path,
                        default=Path("docs/results/tracker/assignment_scan.json"))
    args = parser.parse_args()
    scenes = {"10 targets": scene_config(10, 10.0, 100), "50 targets": scene_config(50, 10.0, 100),
              "50 clutter": scene_config(10, 50.0, 100),
              "1000 targets": large_config(args.large_frames)}
    recorded, frames = {}, {}
    for name, config in scenes.items():
        scenario = generate(config, args.seed)
        source = SceneSource(scenario)
        associator = RecordingGnn()
        Tracker(associator, source.sensors, TrackerConfig()).run(source)
        recorded[name], frames[name] = associator.problems, scenario.num_frames
    times: dict[str, list[float]] = {name: [] for name in scenes}
    for round_index in range(args.rounds + 1):
        for name, problems in recorded.items():
            started = time.process_time()
            for problem in problems:
                gating.solve_gated(*problem)
            if round_index:  # round 0 warms up
                times[name].append(time.process_time() - started)
    rows = []
    for name, problems in recorded.items():
        per_frame = [seconds / frames[name] * 1e6 for seconds in times[name]]
        rows.append({"scene": name, "frames": frames[name], "calls": len(problems),
                     "exact_components_per_frame": exact_components(problems) / frames[name],
                     "us_per_frame_median": statistics.median(per_frame),
                     "us_per_frame_min": min(per_frame), "answers_digest": digest(problems)})
        print(f"{name:>12}: {rows[-1]['us_per_frame_median']:8.1f} us/frame (min "
              f"{rows[-1]['us_per_frame_min']:.1f}), {rows[-1]['exact_components_per_frame']:.2f}"
              f" exact components/frame, answers {rows[-1]['answers_digest']}", flush=True)
    result = {"command": "python benchmarks/assignment_scan.py " + " ".join(sys.argv[1:]),
              "seed": args.seed, "rounds": args.rounds, "cpus": os.cpu_count(),
              "load_average_1min": os.getloadavg()[0], "scenes": rows}
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
