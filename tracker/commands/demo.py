"""``hste demo``: the whole pipeline on a small scene, no arguments needed (``make demo``).

Simulate a test scene, train a small HSTE association network on other simulated scenes, track
the test scene with ``gnn`` and ``learned``, score both, animate them side by side, and print
where everything went. Defaults are sized for under 10 minutes on 2 CPU cores.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import click
import torch

from common.atomic import write_text_atomic
from common.cli_types import SEED
from tracker.association.gnn import GnnAssociator
from tracker.association.learned import LearnedAssociator, load_model
from tracker.evaluation import evaluate_many, format_table
from tracker.plots.animation import animate
from tracker.plots.inputs import scored_events
from tracker.scene_source import PRESETS, generate, get_preset, track_scene
from tracker.tracks_io import write_tracks
from tracker.training import TrainingConfig, derived_seed, train

DEMO_TRAINING = TrainingConfig(validation_scenes=2)
"""The demo's training run: ``hste train``'s defaults (96 steps on 48 fresh scenes, a few
minutes on 2 cores), so the demo shows what the learned tracker gains; the preset and seed come
from the options."""


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/demo"), show_default=True, help="Folder for everything written.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="dense-clutter",
              show_default=True, help="Scene preset for training and the test scene.")
@click.option("--epochs", type=click.IntRange(min=1), default=DEMO_TRAINING.epochs,
              show_default=True, help="Training epochs.")
@click.option("--frames", type=click.IntRange(min=2), default=100, show_default=True,
              help="Frames of the test scene.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of training and of the test scene (never one training used).")
@click.option("--no-animation", is_flag=True, help="Skip the GIF.")
def demo_command(out: Path, preset: str, epochs: int, frames: int, seed: int,
                 no_animation: bool) -> None:
    """Simulate, train, track with gnn and learned, evaluate both, animate.

    \b
    Writes to OUT:
        train/          checkpoint.pt, best.pt (the model used), log.csv
        scene.npz       the test scene (seed never seen in training)
        gnn.csv, learned.csv   tracks (hste track layout)
        scores.json     MOTA, IDF1, GOSPA, ... of both (hste evaluate layout)
        demo.gif        gnn and learned side by side, ID switches and false tracks marked

    \b
    Example:
        hste demo
        hste demo --preset crossing --out out/demo-crossing
    """
    started = time.perf_counter()
    torch.set_num_threads(1)  # small tensors: extra threads cost more than they give
    config = DEMO_TRAINING.replace(preset=preset, epochs=epochs, seed=seed)
    click.echo(f"1/4 training an HSTE association network on {config.epochs} x "
               f"{config.scenes_per_epoch} simulated '{preset}' scenes ...")
    train(config, out / "train")
    model_path = out / "train" / "best.pt"

    scene_seed = derived_seed(seed, 99)
    scenario = generate(get_preset(preset).replace(frames=frames), scene_seed)
    scenario.save(out / "scene.npz")
    click.echo(f"2/4 tracking the test scene (seed {scene_seed}, {frames} frames) with gnn and "
               "learned ...")
    tracker_config = config.tracker()
    associators = {"gnn": GnnAssociator(tracker_config.gnn),
                   "learned": LearnedAssociator(load_model(model_path, ("hste",)))}
    tables = {}
    for name, associator in associators.items():
        tables[name] = track_scene(associator, scenario, tracker_config)
        write_tracks(out / f"{name}.csv", tables[name])

    click.echo("3/4 scoring both ...")
    results = evaluate_many(scenario, tables)
    document = {"scene": str(out / "scene.npz"), "model": str(model_path),
                "tracks": {name: {"path": str(out / f"{name}.csv"),
                                  **{k: None if math.isnan(v) else v
                                     for k, v in result.summary.items()}}
                           for name, result in results.items()}}
    write_text_atomic(out / "scores.json", json.dumps(document, indent=2) + "\n")
    click.echo(format_table(results))

    gif = out / "demo.gif"
    if not no_animation:
        click.echo("4/4 animating gnn and learned side by side ...")
        animate(scenario, tables, gif, events=scored_events(scenario, tables))
    click.echo(
        f"\ndone in {time.perf_counter() - started:.0f} s; everything is in {out}/:\n"
        f"  model:      {model_path} (training log {out / 'train' / 'log.csv'})\n"
        f"  test scene: {out / 'scene.npz'}\n"
        f"  tracks:     {out / 'gnn.csv'}, {out / 'learned.csv'}\n"
        f"  scores:     {out / 'scores.json'}\n"
        + ("" if no_animation else f"  animation:  {gif}\n")
        + f"reproduce a step, e.g.: hste evaluate {out / 'scene.npz'} {out / 'gnn.csv'} "
          f"{out / 'learned.csv'} --json scores.json")
