"""``hste track``: run the tracker over a scene file and write the tracks CSV."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from common.atomic import refuse_overwriting_inputs
from common.errors import InputError
from tracker.association import BACKENDS, build_associator
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_input import load_scene
from tracker.tracks_io import write_tracks


@click.command("track")
@click.argument("scene", type=click.Path(path_type=Path))
@click.option("--assoc", "backend", type=click.Choice(sorted(BACKENDS)), default="gnn",
              show_default=True, help="Association backend.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Checkpoint of the association network (learned, sinkhorn).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Tracker settings (TOML: motion model, [management], [gnn]).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tracks CSV to write.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def track_command(scene: Path, backend: str, model_path: Path | None, config_path: Path | None,
                  output: Path, quiet: bool) -> None:
    """Track SCENE (a scene .npz from ``hste simulate``) and write every track's state per frame.

    The CSV has the header ``frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed`` (frame 1-based,
    metres, tentative tracks included with confirmed = 0). Detections with NaN positions are
    dropped with a warning.

    \b
    Example:
        hste simulate --preset crossing --seed 1 -o scene.npz
        hste track scene.npz --assoc gnn -o gnn.csv
        hste track scene.npz --assoc learned --model model.pt -o learned.csv
    """
    refuse_overwriting_inputs([output], [scene, model_path, config_path])
    config = TrackerConfig.from_toml(config_path) if config_path else TrackerConfig()
    if backend == "gnn":
        if model_path is not None:
            raise InputError("--model is for the learned and sinkhorn backends, not gnn")
        associator = build_associator(backend, config=config.gnn)
    else:
        import torch  # only the network backends need it

        torch.set_num_threads(1)  # per-scan networks are tiny: extra threads only add overhead
        associator = build_associator(backend, model_path=model_path)
    scenario = load_scene(scene)
    if len(scenario.det_frame) == 0:
        raise InputError(f"{scene}: the scene has no detections to track")
    table = Tracker(associator, scenario.sensors, config).run(scenario, progress=not quiet)
    write_tracks(output, table)
    confirmed = np.unique(table.id[table.confirmed]).size
    click.echo(f"{output}: {len(table)} rows, {confirmed} confirmed tracks "
               f"({scenario.num_frames} frames, --assoc {backend})")
