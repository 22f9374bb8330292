"""The hard-scene suite: gnn and jpda (and Stone Soup's JPDA) on each preset, paired over seeds.

Usage:
    .venv/bin/python benchmarks/hard_scenes.py [--out docs/results/hard] [--seeds 101 ... 105]
        [--presets formation crossing ...] [--stonesoup /tmp/ssvenv/bin/python]
        [--stonesoup-presets formation crossing] [--stonesoup-seeds 5]
        [--stonesoup-trackers jpda mht] [--frames N] [--backends gnn jpda jpda-star]
        [--models DIR] [--stem hard_scenes]

Each preset (``sim.presets``; default: ``HARD_PRESETS`` and ``crossing``) is simulated with each
seed and tracked by our ``gnn`` and ``jpda`` (default ``TrackerConfig``) one after the other in
this process, and, for ``--stonesoup-presets`` when the ``--stonesoup`` interpreter exists, by
Stone Soup's JPDA (``benchmarks/stonesoup_jpda.py``: the scene's Pd and its clutter density at
3.5 km range, linear-Gaussian position noise 15 m per axis, about the radar's mean cross-range
noise) in a subprocess, and with ``--stonesoup-trackers ... mht`` by its multi-frame assignment
MHT (``benchmarks/stonesoup_mht.py``, same settings, slide window 3; the interpreter needs
ortools: ``pip install "stonesoup[mfa]"``). Scores: ``tracker.evaluation`` as ``hste evaluate``
does (confirmed tracks, match distance and GOSPA c 50 m; 5 m for point-cloud scenes). Speed:
frames per CPU second of the tracking loop (process time; the machine is shared), torch and BLAS
on one thread.
With ``--models DIR``, every ``DIR/<preset>/<operator>/best.pt`` (as
``benchmarks/train_hard_suite.sh`` writes them) also tracks its preset's scenes, as
``learned-<operator>``, and every ``--model NAME=CHECKPOINT`` on every preset (a model trained
on a mixture of presets); a checkpoint trained or validated on one of the seeds is refused.
``--tracker-config T.toml`` sets every one of our trackers up from T (default ``TrackerConfig()``).
``--clutter-map`` adds gnn and jpda with the clutter map (``tracker/clutter_map.py``) as
``gnn+map`` and ``jpda+map``; ``--report-only A.json B.json`` merges earlier runs' tables.
The table gives means over seeds and, for every tracker but gnn, the paired differences to gnn
and to jpda (mean +- standard error over the seeds both ran); JSON holds every seed's row.
Outputs: ``OUT/<stem>.md`` and ``OUT/<stem>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.learned_quality import seeds_used_in_training  # noqa: E402
from common.atomic import write_text_atomic  # noqa: E402
from sim import generate  # noqa: E402
from sim.presets import HARD_PRESETS, get_preset  # noqa: E402
from tracker.association.learned import (  # noqa: E402
    LearnedAssociator,
    model_from_checkpoint,
    read_checkpoint,
)
from tracker.clutter_map import ClutterMapConfig  # noqa: E402
from tracker.commands.track import build_backend  # noqa: E402
from tracker.evaluation import evaluate_many, scene_scoring  # noqa: E402
from tracker.pipeline import Tracker, TrackerConfig  # noqa: E402
from tracker.scene_source import SceneSource, scene_sensors  # noqa: E402
from tracker.tracks_io import read_tracks  # noqa: E402

METRICS = ("MOTA", "IDF1", "IDSW", "FP", "FN", "MOTP_m")
BACKENDS = ("gnn", "jpda")
"""Our classical backends scored by default (``--backends`` adds others, e.g. jpda-star)."""
REFERENCE_RANGE = 3500.0  # m, radar to the middle of the presets' area


def run_ours(scenario, associator, config: TrackerConfig):
    """(tracks table, CPU s of the tracking loop) of our tracker with ``associator``."""
    source = SceneSource(scenario)
    tracker = Tracker(associator, source.sensors, config)
    started = time.process_time()
    table = tracker.run(source)
    return table, time.process_time() - started


def run_stonesoup(python: str, scenario, folder: Path, tracker: str):
    """(tracks table, CPU s) of Stone Soup's ``tracker`` (``jpda`` or ``mht``) on ``scenario``,
    in a subprocess."""
    sensor = scenario.sensors[0]
    scene, output = folder / "scene.npz", folder / "stonesoup.csv"
    scenario.save(scene)
    model = scene_sensors(scenario)[0]
    density = float(model.clutter_density(np.zeros((1, 2)), np.array([REFERENCE_RANGE]))[0])
    completed = subprocess.run(
        [python, str(Path(__file__).with_name(f"stonesoup_{tracker}.py")), str(scene), "-o",
         str(output), "--noise", "15", "--pd", str(sensor.detection_prob),
         "--clutter-density", f"{density:.6g}",
         "--noise-diff-coeff", str(TrackerConfig().noise_diff_coeff)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    return read_tracks(output), float(completed.stdout.split()[-1])


def learned_models(folder: Path | None, preset: str, seeds: list[int]) -> dict[str, Path]:
    """``learned-<operator>`` -> checkpoint, for every ``folder/<preset>/<operator>/best.pt``;
    SystemExit if one was trained or validated on one of ``seeds``."""
    if folder is None:
        return {}
    return {f"learned-{path.parent.name}": unseen(path, seeds)
            for path in sorted((folder / preset).glob("*/best.pt"))}


def unseen(path: Path, seeds: list[int]) -> Path:
    """``path``, a checkpoint; SystemExit if it was trained or validated on one of ``seeds``."""
    overlap = seeds_used_in_training(read_checkpoint(path)) & set(seeds)
    if overlap:
        raise SystemExit(f"{path} was trained on seed(s) {sorted(overlap)}; pick others")
    return path


def run_preset(name: str, seeds: list[int], args, folder: Path) -> dict[str, list[dict]]:
    """tracker -> one row per seed (metrics and frames per CPU second)."""
    rows: dict[str, list[dict]] = {}
    models = learned_models(args.models, name, seeds)
    for spec in args.model:  # models for every preset (a mixture's)
        model, path = spec.split("=", 1)
        models[model] = unseen(Path(path), seeds)
    for seed in seeds:
        config = get_preset(name)
        scenario = generate(config.replace(frames=args.frames) if args.frames else config, seed)
        tables, seconds = {}, {}
        plain = (TrackerConfig.from_toml(args.tracker_config) if args.tracker_config
                 else TrackerConfig())
        mapped = dataclasses.replace(plain, clutter_map=ClutterMapConfig(enabled=True))
        trackers = {backend: (build_backend(backend, None, plain), plain)
                    for backend in args.backends}
        if args.clutter_map:
            trackers.update({f"{backend}+map": (build_backend(backend, None, mapped), mapped)
                             for backend in args.backends})
        for model, path in models.items():
            trackers[model] = LearnedAssociator(model_from_checkpoint(
                read_checkpoint(path), path)), plain
        for tracker, (associator, config) in trackers.items():
            tables[tracker], seconds[tracker] = run_ours(scenario, associator, config)
        if (name in args.stonesoup_presets and seed in seeds[:args.stonesoup_seeds]
                and Path(args.stonesoup).exists()):
            for tracker in args.stonesoup_trackers:
                tables[f"stonesoup {tracker}"], seconds[f"stonesoup {tracker}"] = run_stonesoup(
                    args.stonesoup, scenario, folder, tracker)
        scores = evaluate_many(scenario, tables, scene_scoring(scenario))
        for tracker, result in scores.items():
            row = {key: result.summary[key] for key in METRICS}
            row.update(seed=seed, frames_per_cpu_s=scenario.num_frames / seconds[tracker])
            rows.setdefault(tracker, []).append(row)
        print(f"  {name} seed {seed}: " + ", ".join(
            f"{t} MOTA {rows[t][-1]['MOTA']:.3f} IDF1 {rows[t][-1]['IDF1']:.3f} "
            f"{rows[t][-1]['frames_per_cpu_s']:.1f} f/cpu-s" for t in tables), file=sys.stderr)
    return rows


def paired(rows: list[dict], baseline: list[dict], key: str) -> str:
    """Mean +- standard error of the per-seed difference ``rows - baseline`` in ``key``."""
    by_seed = {row["seed"]: row[key] for row in baseline}
    differences = np.array([row[key] - by_seed[row["seed"]] for row in rows])
    if differences.size < 2:
        return f"{differences.mean():+.3f}"
    error = differences.std(ddof=1) / math.sqrt(differences.size)
    return f"{differences.mean():+.3f} ± {error:.3f}"


def format_table(results: dict[str, dict[str, list[dict]]]) -> str:
    lines = ["| preset | tracker | seeds | MOTA | IDF1 | IDSW | FP | FN | MOTA - gnn | IDF1 - gnn "
             "| MOTA - jpda | IDF1 - jpda | frames/CPU-s |", "|---" * 13 + "|"]
    for preset, trackers in results.items():
        for tracker, rows in trackers.items():
            mean = {key: float(np.mean([row[key] for row in rows]))
                    for key in (*METRICS, "frames_per_cpu_s")}
            versus = [paired(rows, trackers[anchor], key)
                      if tracker not in ("gnn", anchor) and anchor in trackers else ""
                      for anchor in ("gnn", "jpda") for key in ("MOTA", "IDF1")]
            lines.append(f"| {preset} | {tracker} | {len(rows)} | {mean['MOTA']:.3f} | "
                         f"{mean['IDF1']:.3f} | "
                         f"{mean['IDSW']:.1f} | {mean['FP']:.1f} | {mean['FN']:.1f} | "
                         + " | ".join(versus) + f" | {mean['frames_per_cpu_s']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results/hard"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--presets", nargs="+", default=[*HARD_PRESETS, "crossing"])
    parser.add_argument("--stonesoup", default="/tmp/ssvenv/bin/python")
    parser.add_argument("--stonesoup-presets", nargs="*", default=["formation", "crossing"])
    parser.add_argument("--stonesoup-seeds", type=int, default=5,
                        help="run Stone Soup on this many of the first seeds")
    parser.add_argument("--stonesoup-trackers", nargs="+", choices=("jpda", "mht"),
                        default=["jpda"], help="Stone Soup's trackers to run")
    parser.add_argument("--frames", type=int, default=None, help="override the presets' frames")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS),
                        help="our classical association backends to score (gnn and jpda first)")
    parser.add_argument("--models", type=Path, default=None,
                        help="folder of <preset>/<operator>/best.pt checkpoints to score too")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=CHECKPOINT",
                        help="a checkpoint to score on every preset (e.g. a mixture's)")
    parser.add_argument("--stem", default="hard_scenes", help="name of the .md / .json outputs")
    parser.add_argument("--tracker-config", type=Path, default=None,
                        help="tracker TOML for every tracker of ours (e.g. motion_model = \"ct\")")
    parser.add_argument("--clutter-map", action="store_true",
                        help="also track with gnn and jpda with the clutter map (gnn+map, ...)")
    parser.add_argument("--report-only", type=Path, nargs="+", default=None, metavar="JSON",
                        help="no tracking: merge these outputs' results into OUT/<stem>.md")
    args = parser.parse_args()
    if args.report_only:
        merged: dict[str, dict[str, list[dict]]] = {}
        for path in args.report_only:
            for preset, trackers in json.loads(path.read_text(encoding="utf-8"))[
                    "results"].items():
                merged.setdefault(preset, {}).update(trackers)
        write_text_atomic(args.out / f"{args.stem}.md", format_table(merged) + "\n")
        print(format_table(merged))
        return
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.presets:  # the files are rewritten after each preset
            results[name] = run_preset(name, args.seeds, args, Path(folder))
            table = format_table(results)
            command = "python benchmarks/hard_scenes.py " + " ".join(sys.argv[1:])
            write_text_atomic(args.out / f"{args.stem}.json", json.dumps(
                {"command": command, "seeds": args.seeds, "frames": args.frames,
                 "results": results}, indent=1) + "\n")
            write_text_atomic(args.out / f"{args.stem}.md", table + "\n")
    print(table)

if __name__ == "__main__":
    main()
