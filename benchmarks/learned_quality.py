"""Tracking quality of trained association models against gnn, on fresh scenes.

For every seed, a scene of the preset is simulated with that seed (checked to be none of the
seeds any of the models' training or validation used), tracked with ``gnn`` and with each model
(``--model NAME=CHECKPOINT``), and scored by :func:`tracker.evaluation.evaluate_many` (the
scoring of ``hste evaluate``). Prints per-tracker means over the seeds and the paired difference
to gnn (mean and standard error over seeds); writes ``quality.json`` and ``quality.md``.

    .venv/bin/python -m benchmarks.learned_quality --preset crossing --seeds 1001-1005 \\
        --model learned=out/learned/cr_sup_hste/best.pt --out docs/results/learned/crossing
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from common.atomic import write_text_atomic
from sim import generate
from sim.presets import get_preset
from tracker.association.gnn import GnnAssociator
from tracker.association.learned import LearnedAssociator, model_from_checkpoint, read_checkpoint
from tracker.evaluation import evaluate_many
from tracker.pipeline import TrackerConfig
from tracker.scene_source import track_scene
from tracker.training import TrainingConfig, scene_seed, validation_seed

METRICS = ("MOTA", "IDF1", "IDSW", "FP", "FN", "MOTP_m", "GOSPA_mean", "prop_wrong_mean")


def seed_list(text: str) -> list[int]:
    """``"1001-1005"`` or ``"1,5,9"`` -> the seeds."""
    if "-" in text:
        first, last = (int(part) for part in text.split("-"))
        return list(range(first, last + 1))
    return [int(part) for part in text.split(",")]


def seeds_used_in_training(content: dict) -> set[int]:
    """Every scene seed a checkpoint's training run simulated (training and validation)."""
    config = TrainingConfig.from_dict(content["training"])
    used = {scene_seed(config.seed, epoch, index) for epoch in range(config.epochs)
            for index in range(config.scenes_per_epoch)}
    return used | {validation_seed(config.seed, index) for index in range(config.validation_scenes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--seeds", default="1001-1005")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=CHECKPOINT")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = seed_list(args.seeds)
    tracker_config = TrackerConfig()
    associators = {"gnn": GnnAssociator(tracker_config.gnn)}
    checkpoints = {}
    for spec in args.model:
        name, path = spec.split("=", 1)
        content = read_checkpoint(path)
        overlap = seeds_used_in_training(content) & set(seeds)
        if overlap:
            raise SystemExit(f"{path} was trained on seed(s) {sorted(overlap)}; pick others")
        associators[name] = LearnedAssociator(model_from_checkpoint(content, path))
        checkpoints[name] = {"path": path, "training": content["training"],
                             "epoch": content["epoch"]}
    per_seed: dict[str, list[dict[str, float]]] = {name: [] for name in associators}
    for seed in seeds:
        scenario = generate(get_preset(args.preset), seed)
        tables = {name: track_scene(associator, scenario, tracker_config)
                  for name, associator in associators.items()}
        for name, evaluation in evaluate_many(scenario, tables).items():
            per_seed[name].append({m: evaluation.summary[m] for m in METRICS})
        print(f"seed {seed}: " + "  ".join(f"{n} MOTA {per_seed[n][-1]['MOTA']:.3f}"
                                             for n in associators), flush=True)
    summary = {}
    for name, rows in per_seed.items():
        values = {m: np.array([row[m] for row in rows]) for m in METRICS}
        gnn = {m: np.array([row[m] for row in per_seed["gnn"]]) for m in METRICS}
        summary[name] = {m: float(values[m].mean()) for m in METRICS}
        for m in ("MOTA", "IDF1"):
            difference = values[m] - gnn[m]
            summary[name][f"{m}_minus_gnn"] = float(difference.mean())
            summary[name][f"{m}_minus_gnn_se"] = float(
                difference.std(ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else 0.0)
    command = "python -m benchmarks.learned_quality " + " ".join(sys.argv[1:])
    header = ["tracker", *METRICS, "MOTA - gnn", "IDF1 - gnn"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, values in summary.items():
        cells = [f"{values[m]:.3f}" if m not in ("IDSW", "FP", "FN") else f"{values[m]:.1f}"
                 for m in METRICS]
        cells += [f"{values['MOTA_minus_gnn']:+.3f} ± {values['MOTA_minus_gnn_se']:.3f}",
                  f"{values['IDF1_minus_gnn']:+.3f} ± {values['IDF1_minus_gnn_se']:.3f}"]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    table = "\n".join(lines)
    print(table)
    markdown = (f"# {args.preset}: learned association vs gnn on {len(seeds)} fresh scenes\n\n"
                f"Command: `{command}`\n\nMeans over seeds {args.seeds} (100 frames each); "
                "differences to gnn are paired per seed, ± one standard error.\n\n"
                f"{table}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "quality.md", markdown)
    write_text_atomic(args.out / "quality.json", json.dumps(
        {"command": command, "preset": args.preset, "seeds": seeds, "models": checkpoints,
         "summary": summary, "per_seed": per_seed}, indent=2) + "\n")
    print(f"wrote {args.out / 'quality.md'} and quality.json")


if __name__ == "__main__":
    main()
