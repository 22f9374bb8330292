"""TrackEval beside our scoring: its CLEAR MOTA and Identity IDF1 against motmetrics' at the same
gate, and the time HOTA adds to an evaluation.

Usage:
    .venv/bin/python benchmarks/trackeval_agreement.py [--frames 40] [--seeds 1 2 3]
        [--repeats 3] [--json docs/results/tracker/trackeval.json]

Needs TrackEval (``pip install -e '.[hota]'``). Per preset and seed: ``sim`` scene of
``--frames`` frames, tracked by gnn (default TrackerConfig), scored by
:func:`tracker.evaluation.evaluate_many` (confirmed tracks, visible targets, match distance 50 m,
5 m for the point-cloud preset) and by TrackEval's CLEAR / Identity on
:func:`tracker.hota.clear_similarity` (the same gate). Reported: both MOTAs, FN / FP / IDSW,
both IDF1s, whether all of these agree (to 1e-12), HOTA, and the median wall seconds of
``evaluate_many`` without and with HOTA, alternating the two ``--repeats`` times. Prints a table
and writes JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.association.gnn import GnnAssociator  # noqa: E402
from tracker.evaluation import EvaluationConfig, evaluate_many, frame_distances  # noqa: E402
from tracker.hota import (  # noqa: E402
    clear_identity_scores,
    clear_similarity,
    sequence_data,
    trackeval_version,
)
from tracker.scene_source import generate, get_preset, track_scene  # noqa: E402

PRESETS = {"crossing": 50.0, "dense-clutter": 50.0, "formation": 50.0, "heavy-clutter": 50.0,
           "manoeuvring": 50.0, "pointcloud": 5.0}
"""Preset -> match distance (m)."""


def timed_evaluations(scene, table, config: EvaluationConfig, repeats: int
                      ) -> tuple[float, float]:
    """Median wall seconds of ``evaluate_many`` without, then with HOTA, alternated."""
    plain, with_hota = [], []
    for _ in range(repeats):
        for hota, times in ((False, plain), (True, with_hota)):
            started = time.perf_counter()
            evaluate_many(scene, {"gnn": table}, dataclasses.replace(config, hota=hota))
            times.append(time.perf_counter() - started)
    return statistics.median(plain), statistics.median(with_hota)


def score(preset: str, seed: int, frames: int, repeats: int) -> dict:
    """One scene's row: ours and TrackEval's counts and scores, and the timings."""
    distance = PRESETS[preset]
    scene = generate(dataclasses.replace(get_preset(preset), frames=frames), seed)
    table = track_scene(GnnAssociator(), scene)
    config = EvaluationConfig(match_distance=distance, gospa_cutoff=distance, hota=True)
    ours = evaluate_many(scene, {"gnn": table}, config)["gnn"].summary
    data = sequence_data(frame_distances(scene, table.take(table.confirmed), distance), distance,
                         clear_similarity)
    theirs = clear_identity_scores(data)
    plain, with_hota = timed_evaluations(scene, table, config, repeats)
    return {"preset": preset, "seed": seed, "match_distance_m": distance, "GT": ours["GT"],
            **{f"{c}_ours": ours[c] for c in ("MOTA", "IDF1", "FN", "FP", "IDSW")},
            **{f"{c}_trackeval": theirs[c] for c in ("MOTA", "IDF1", "FN", "FP", "IDSW")},
            "HOTA": ours["HOTA"], "evaluate_s": plain, "evaluate_with_hota_s": with_hota}


def format_table(rows: list[dict]) -> str:
    """One line per scene."""
    lines = [f"{'preset':<14} seed    GT  MOTA ours   TE  FN/FP/IDSW ours    TE      "
             f"IDF1 ours   TE  same  HOTA  eval s  +HOTA s"]
    for r in rows:
        counts = ["/".join(f"{r[f'{c}_{who}']:.0f}" for c in ("FN", "FP", "IDSW"))
                  for who in ("ours", "trackeval")]
        same = all(abs(r[f"{c}_ours"] - r[f"{c}_trackeval"]) <= 1e-12
                   for c in ("MOTA", "IDF1", "FN", "FP", "IDSW"))
        lines.append(f"{r['preset']:<14} {r['seed']:>4} {r['GT']:>5.0f}  {r['MOTA_ours']:.4f} "
                     f"{r['MOTA_trackeval']:.4f}  {counts[0]:>10} {counts[1]:>10}  "
                     f"{r['IDF1_ours']:.4f} {r['IDF1_trackeval']:.4f}  {'yes' if same else 'NO':>4}"
                     f"  {r['HOTA']:.3f}  {r['evaluate_s']:6.3f}  {r['evaluate_with_hota_s']:6.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if trackeval_version() is None:
        sys.exit("TrackEval is not installed: pip install -e '.[hota]'")
    rows = [score(preset, seed, args.frames, args.repeats)
            for preset in PRESETS for seed in args.seeds]
    print(format_table(rows))
    if args.json is not None:
        document = {"command": " ".join(["benchmarks/trackeval_agreement.py", *sys.argv[1:]]),
                    "trackeval_version": trackeval_version(), "frames": args.frames,
                    "rows": rows}
        write_text_atomic(args.json, json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
