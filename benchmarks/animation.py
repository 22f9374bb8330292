"""Rendering speed of ``hste animate``: 500 frames of a 50-target scene (target: under 60 s).

The scene is the ``default`` preset with 50 targets from the start, no births and no deaths; the
tracks are the truth plus Gaussian noise (1-sigma 5 m, 2 m/s), tentative for their first three
frames, so the picture has as many tracks as targets whatever the state of the tracker. The
benchmark renders the full GIF through the public ``animate`` function, then, side by side in the
same run, times a short stretch of frames drawn by blitting (what ``animate`` does) and by a full
redraw of the figure per frame, and prints the ratio. Numbers depend on the machine's load, which
is printed with them.

    .venv/bin/python -m benchmarks.animation [--frames 500] [--targets 50] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from common.atomic import write_text_atomic
from sim import generate
from sim.presets import get_preset
from tracker.plots.animation import FrameRenderer, animate
from tracker.tracks_io import TrackTable


def benchmark_scene(frames: int, targets: int, seed: int = 1):
    """The default preset with ``targets`` targets alive through all ``frames`` frames."""
    config = get_preset("default")
    motion = dataclasses.replace(config.motion, initial_targets=targets, birth_rate=0.0,
                                 survival_prob=1.0)
    return generate(dataclasses.replace(config, frames=frames, motion=motion), seed=seed)


def noisy_truth_tracks(scene, seed: int = 2) -> TrackTable:
    """The truth as a tracks table: states plus noise, ids shifted, first 3 frames tentative."""
    rng = np.random.default_rng(seed)
    count = len(scene.truth_id)
    states = scene.truth_state + rng.normal(0.0, 1.0, (count, 4)) * [5.0, 5.0, 2.0, 2.0]
    first_frame = np.full(scene.truth_id.max() + 1, scene.num_frames)
    np.minimum.at(first_frame, scene.truth_id, scene.truth_frame)
    return TrackTable(
        scene.truth_frame.astype(np.int64) + 1, scene.truth_id.astype(np.int64) + 100,
        *states.T, np.full(count, 400.0), np.full(count, 120.0), np.full(count, 250.0),
        scene.truth_frame >= first_frame[scene.truth_id] + 3,
    )


def blit_versus_redraw(scene, tracks: TrackTable, frames: int) -> dict[str, float]:
    """Seconds per frame drawing ``frames`` frames by blitting and by a full figure redraw."""
    renderer = FrameRenderer(scene, {"gnn": tracks}, {}, trail=15, panel_size=5.0, dpi=100,
                             sigma=2.0)
    start = time.perf_counter()
    for k in range(frames):
        renderer.render(k)
    blit = (time.perf_counter() - start) / frames
    for panel in renderer.panels:
        for artist in panel.artists:
            artist.set_animated(False)
    renderer.counter.set_animated(False)
    start = time.perf_counter()
    for k in range(frames):
        for panel in renderer.panels:
            panel.draw(k)
        renderer.canvas.draw()
    redraw = (time.perf_counter() - start) / frames
    return {
        "blit_s_per_frame": blit, "redraw_s_per_frame": redraw, "redraw_over_blit": redraw / blit
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--compare-frames", type=int, default=40,
                        help="frames drawn both ways for the blit / redraw comparison")
    parser.add_argument("--out", type=Path, default=Path("docs/results/pictures"))
    args = parser.parse_args()

    scene = benchmark_scene(args.frames, args.targets)
    tracks = noisy_truth_tracks(scene)
    load_before = os.getloadavg()[0]
    cpu_start = time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        summary = animate(scene, {"gnn": tracks}, Path(folder) / "bench.gif", progress=False)
        gif_bytes = summary.path.stat().st_size
    cpu_seconds = time.process_time() - cpu_start
    comparison = blit_versus_redraw(scene, tracks, args.compare_frames)
    result = {
        "frames": summary.frames, "targets": args.targets, "tracks_rows": len(tracks),
        "detections": int(len(scene.det_frame)), "width_px": summary.width,
        "height_px": summary.height, "gif_seconds": summary.seconds,
        "gif_cpu_seconds": cpu_seconds,
        "gif_frames_per_s": summary.frames / summary.seconds, "gif_mib": gif_bytes / 2**20,
        "target_seconds": 60.0, "meets_target": summary.seconds < 60.0,
        "load_average_1min_before": load_before, "cpu_count": os.cpu_count(), **comparison,
    }
    rows = [
        ("frames x targets", f"{summary.frames} x {args.targets}"),
        ("frame size", f"{summary.width} x {summary.height} px"),
        ("GIF total (render + encode)", f"{summary.seconds:.1f} s wall (target < 60 s)"),
        ("  of which CPU time", f"{cpu_seconds:.1f} s"),
        ("GIF frames per second", f"{result['gif_frames_per_s']:.1f}"),
        ("GIF size", f"{result['gif_mib']:.1f} MiB"),
        ("blit, per frame", f"{1000 * comparison['blit_s_per_frame']:.1f} ms"),
        ("full redraw, per frame", f"{1000 * comparison['redraw_s_per_frame']:.1f} ms"),
        ("redraw / blit", f"{comparison['redraw_over_blit']:.1f}x"),
        ("1-min load average before", f"{load_before:.1f} on {os.cpu_count()} CPUs"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    write_text_atomic(args.out / "animation_bench.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out / 'animation_bench.json'}")


if __name__ == "__main__":
    main()
