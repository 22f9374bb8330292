"""Foreign scenes: our gnn against Stone Soup's GNN on scenes this project did not generate.

Usage:
    .venv/bin/python benchmarks/foreign.py [--seeds 1 2 3] [--out docs/results/tracker]
        [--stonesoup /tmp/ssvenv/bin/python] [--stonesoup-min-points 2 3 4]

Scenes from ``benchmarks/foreign_scenes.py`` (numpy only, not ``sim``): 2-D nearly-constant
velocity targets, a position-only sensor with 5 m noise per axis, Pd 0.9, Poisson clutter uniform
over a 2 km square, 100 scans 1 s apart, in three kinds: 10 targets + 10 clutter per scan,
10 targets + 50 clutter, 50 targets + 10 clutter. Each scene goes through the files a user would
have: detections CSV, sensor TOML (the sensor's known parameters: sigma, pd, clutter_rate,
region, dt) and truth CSV.

- ours: ``gnn`` with the default TrackerConfig and the sensor TOML as written (nothing set from
  the test scenes), reading the CSV through :mod:`tracker.detections_io`;
- Stone Soup: ``benchmarks/stonesoup_gnn.py`` (tutorial GNN, 5 m measurement noise, the same q)
  in its own interpreter, once per ``--stonesoup-min-points``; its best setting per scene kind
  (highest mean MOTA over the seeds) is the one compared.

Both are scored by :func:`tracker.evaluation.evaluate_many` against the truth CSV (match distance
and GOSPA c 20 m, confirmed tracks). Speed: the tracking loop only (files read, warm-up done),
frames per CPU second of the process (the machine is shared; wall seconds are reported too).
Prints a table and writes ``foreign.json`` and ``foreign.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from foreign_scenes import SceneKind, write  # noqa: E402

from common.atomic import write_text_atomic  # noqa: E402
from tracker.association.gnn import GnnAssociator  # noqa: E402
from tracker.detections_io import read_detections  # noqa: E402
from tracker.evaluation import EvaluationConfig, evaluate_many  # noqa: E402
from tracker.pipeline import Tracker, TrackerConfig  # noqa: E402
from tracker.sensors import read_sensors  # noqa: E402
from tracker.tracks_io import read_tracks  # noqa: E402
from tracker.truth_io import read_truth  # noqa: E402

KINDS = {"10 targets + 10 clutter": SceneKind(10, 10.0), "10 targets + 50 clutter":
         SceneKind(10, 50.0), "50 targets + 10 clutter": SceneKind(50, 10.0)}
SCORING = EvaluationConfig(match_distance=20.0, gospa_cutoff=20.0)
METRICS = ("MOTA", "IDF1", "FP", "FN", "IDSW", "GOSPA_mean")


def run_ours(paths: dict[str, Path]):
    """(tracks table, wall s, CPU s) of our gnn on one scene's files, after a warm-up run."""
    sensors = read_sensors(paths["sensor"])
    source = read_detections(paths["dets"], sensors)
    config = TrackerConfig()
    Tracker(GnnAssociator(config.gnn), sensors, config).run(source)
    tracker = Tracker(GnnAssociator(config.gnn), sensors, config)
    started, started_cpu = time.perf_counter(), time.process_time()
    table = tracker.run(source)
    return table, time.perf_counter() - started, time.process_time() - started_cpu


def run_stonesoup(python: str, paths: dict[str, Path], min_points: int, folder: Path):
    """(tracks table, wall s, CPU s) of Stone Soup's GNN (benchmarks/stonesoup_gnn.py)."""
    output = folder / f"ss{min_points}.csv"
    completed = subprocess.run(
        [python, str(ROOT / "benchmarks" / "stonesoup_gnn.py"), str(paths["dets"]), "-o",
         str(output), "--noise", "5.0", "--min-points", str(min_points)],
        check=True, capture_output=True, text=True)
    wall, cpu = (float(v) for v in completed.stdout.split()[-2:])
    return read_tracks(output), wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "tracker")
    parser.add_argument("--stonesoup", default="/tmp/ssvenv/bin/python")
    parser.add_argument("--stonesoup-min-points", type=int, nargs="+", default=[2, 3, 4])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hste-foreign-"))
    runs = []
    for kind_name, kind in KINDS.items():
        for seed in args.seeds:
            prefix = folder / f"{kind.targets}_{int(kind.clutter)}_{seed}"
            paths = write(kind, seed, prefix)
            tables, times = {}, {}
            tables["ours gnn"], *times["ours gnn"] = run_ours(paths)
            for min_points in args.stonesoup_min_points:
                name = f"stonesoup min_points={min_points}"
                tables[name], *times[name] = run_stonesoup(args.stonesoup, paths, min_points,
                                                           prefix.parent)
            last = max(int(t.frame.max(initial=0)) for t in tables.values())
            truth = read_truth(paths["gt"]).with_frames(last)
            results = evaluate_many(truth, tables, SCORING)
            for name, result in results.items():
                wall, cpu = times[name]
                runs.append({"kind": kind_name, "seed": seed, "tracker": name,
                             **{m: result.summary[m] for m in METRICS},
                             "frames": kind.frames, "wall_s": wall, "cpu_s": cpu})
                print(f"{kind_name:<24} seed {seed} {name:<24} MOTA {result.summary['MOTA']:.3f}"
                      f"  CPU {cpu:.3f} s", flush=True)
    summary = summarise(runs)
    document = {"seeds": args.seeds, "scoring": {"match_distance_m": 20.0, "gospa_cutoff_m": 20.0},
                "runs": runs, "summary": summary}
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "foreign.json", json.dumps(document, indent=2) + "\n")
    table = markdown(summary)
    write_text_atomic(args.out / "foreign_table.md", table + "\n")
    print(table)


def summarise(runs: list[dict]) -> list[dict]:
    """Per scene kind: our means, Stone Soup's best setting's means, the MOTA margin and the
    speed ratio (CPU frames/s)."""
    rows = []
    for kind in KINDS:
        here = [r for r in runs if r["kind"] == kind]
        names = sorted({r["tracker"] for r in here if r["tracker"].startswith("stonesoup")})
        best = max(names, key=lambda n: _mean(here, n, "MOTA"))
        ours = "ours gnn"
        rows.append({"kind": kind, "stonesoup_best": best,
                     **{f"ours_{m}": _mean(here, ours, m) for m in METRICS},
                     **{f"stonesoup_{m}": _mean(here, best, m) for m in METRICS},
                     "mota_margin": _mean(here, ours, "MOTA") - _mean(here, best, "MOTA"),
                     "ours_fps_cpu": _fps(here, ours), "stonesoup_fps_cpu": _fps(here, best),
                     "speed_ratio_cpu": _fps(here, ours) / _fps(here, best),
                     "all_stonesoup_mota": {n: _mean(here, n, "MOTA") for n in names}})
    return rows


def _mean(runs: list[dict], tracker: str, key: str) -> float:
    return statistics.fmean(r[key] for r in runs if r["tracker"] == tracker)


def _fps(runs: list[dict], tracker: str) -> float:
    """Frames per CPU second over all of ``tracker``'s runs."""
    mine = [r for r in runs if r["tracker"] == tracker]
    return sum(r["frames"] for r in mine) / sum(r["cpu_s"] for r in mine)


def markdown(summary: list[dict]) -> str:
    lines = ["| scene kind | ours MOTA | Stone Soup best (setting) | margin | ours IDF1 | SS IDF1 "
             "| ours FP / FN | SS FP / FN | ours frames/CPU s | SS frames/CPU s | speed ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary:
        setting = row["stonesoup_best"].split()[-1]
        lines.append(
            f"| {row['kind']} | {row['ours_MOTA']:.3f} | {row['stonesoup_MOTA']:.3f} ({setting}) "
            f"| {row['mota_margin']:+.3f} | {row['ours_IDF1']:.3f} | {row['stonesoup_IDF1']:.3f} "
            f"| {row['ours_FP']:.1f} / {row['ours_FN']:.1f} "
            f"| {row['stonesoup_FP']:.1f} / {row['stonesoup_FN']:.1f} "
            f"| {row['ours_fps_cpu']:.0f} | {row['stonesoup_fps_cpu']:.1f} "
            f"| {row['speed_ratio_cpu']:.0f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
