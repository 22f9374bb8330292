"""``hste track``: run the tracker over a scene file or a detections CSV; write the tracks CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from common.atomic import refuse_overwriting_inputs
from common.config import cli_options, cli_values
from common.errors import InputError
from tracker.association import BACKEND_SETTINGS, BACKENDS, MODEL_BACKENDS
from tracker.pipeline import TrackerConfig


def build_backend(backend: str, model_path: Path | None, config):
    """The association backend ``backend`` (the classical ones from ``config.gnn``, mht also
    from ``config.mht``; the network backends from the checkpoint at ``model_path``)."""
    from tracker.association import build_associator

    if backend not in MODEL_BACKENDS:
        if model_path is not None:
            raise InputError(f"--model is for the {' and '.join(MODEL_BACKENDS)} backends, "
                             f"not {backend}")
        settings = ({"settings": getattr(config, BACKEND_SETTINGS[backend])}
                    if backend in BACKEND_SETTINGS else {})
        return build_associator(backend, config=config.gnn, **settings)
    import torch  # only the network backends need it

    torch.set_num_threads(1)  # per-scan networks are tiny: extra threads only add overhead
    return build_associator(backend, model_path=model_path)


def track_detections(path: Path, sensor_path: Path, associator, config, progress: bool):
    """Track the detections CSV at ``path`` with the sensors of ``sensor_path``; returns
    ``(table, frames, has_time)``; NaN positions are dropped with a warning."""
    from tracker.detections_io import read_detections
    from tracker.pipeline import Tracker
    from tracker.sensors import read_sensors

    sensors = read_sensors(sensor_path)
    source = read_detections(path, sensors, str(sensor_path))
    if source.dropped:
        click.echo(f"warning: {path}: dropped {source.dropped} detection(s) with NaN position",
                   err=True)
    table = Tracker(associator, sensors, config).run(source, progress=progress)
    return table, source.num_frames, source.has_time


def track_scene_file(path: Path, associator, config, progress: bool):
    """Track the scene .npz at ``path``; returns ``(table, frames, False)``."""
    from tracker.scene_source import load_scene, track_scene

    scenario = load_scene(path)
    if len(scenario.det_frame) == 0:
        raise InputError(f"{path}: the scene has no detections to track")
    return track_scene(associator, scenario, config, progress=progress), scenario.num_frames, False


@click.command("track")
@click.argument("detections", type=click.Path(path_type=Path))
@click.option("--sensor", "sensor_path", type=click.Path(path_type=Path), default=None,
              help="Sensor models (TOML) of a detections CSV: kind, noise, pd, clutter_rate, "
                   "field of view (see below). Required for a CSV, not for a scene .npz.")
@click.option("--assoc", "backend", type=click.Choice(sorted(BACKENDS)), default="gnn",
              show_default=True, help="Association backend.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Checkpoint of the association network (learned, sinkhorn).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Tracker settings (TOML: the options below as keys, a table each for "
                   "[management], [gnn] and [clutter_map]); options override it.")
@cli_options(TrackerConfig)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tracks CSV to write.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def track_command(detections: Path, sensor_path: Path | None, backend: str,
                  model_path: Path | None, config_path: Path | None, output: Path,
                  quiet: bool, **settings: Any) -> None:
    """Track DETECTIONS and write every track's state per frame.

    DETECTIONS is a scene .npz from ``hste simulate``, or a detections CSV (name ending in
    .csv) with --sensor. The CSV has a header row and one row per detection:

    \b
      time         s; or frame (integer >= 1, then dt comes from the sensor file)
      x, y         m, world frame; or
      range        m from the sensor, with
      azimuth      rad from the sensor's boresight, counter-clockwise
      sensor       optional: the sensor's id in the sensor file (needed for several)
      range_rate   optional, m/s
      amplitude    optional, dB (SNR)
      cov_xx, cov_xy, cov_yy   optional, m^2: per-detection covariance (overrides the sensor's)

    Empty cells are missing values; rows with a NaN position are dropped with a warning.

    \b
    The sensor file (TOML), one sensor at the top level or several as [[sensors]]:
      kind = "cartesian"   sigma (m per axis) or covariance [[xx, xy], [xy, yy]] (m^2),
                           region = [xmin, xmax, ymin, ymax] (m): field of view
      kind = "radar"       position = [x, y] (m), orientation (rad, boresight),
                           azimuth_span (rad), min_range, max_range (m), range_std (m),
                           azimuth_std (rad); pd_model = "constant" or "snr" (snr_db dB at
                           snr_ref_range m, threshold_db dB)
      kind = "pointcloud"  the radar's geometry and noise per point, extent = [a, b] (m)
      every kind           pd (0-1, per scan), clutter_rate (false detections per scan
                           over the field of view), optional dt (s), optional id

    The tracks CSV has the header ``frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed`` (frame
    1-based, m, m/s, m^2, tentative tracks included with confirmed = 0), plus ``time`` (s) when
    the detections have times.

    \b
    Example:
        hste simulate --preset crossing --seed 1 -o scene.npz
        hste track scene.npz --assoc gnn -o gnn.csv
        hste track scene.npz --assoc gnn --motion-model ct -o gnn_ct.csv
        hste track dets.csv --sensor sensor.toml -o tracks.csv
        hste track scene.npz --assoc learned --model model.pt -o learned.csv
    """
    from tracker.tracks_io import write_tracks

    is_csv = detections.suffix.lower() == ".csv"
    if is_csv and sensor_path is None:
        raise InputError(f"{detections}: a detections CSV needs --sensor SENSOR.toml")
    if not is_csv and sensor_path is not None:
        raise InputError("--sensor is for detections CSVs; a scene .npz has its own sensors")
    refuse_overwriting_inputs([output], [detections, model_path, config_path, sensor_path])
    changes = cli_values(TrackerConfig, settings)
    config = (TrackerConfig.from_toml(config_path, changes) if config_path
              else TrackerConfig.from_dict(changes))
    associator = build_backend(backend, model_path, config)
    if is_csv:
        table, frames, has_time = track_detections(detections, sensor_path, associator, config,
                                                   not quiet)
    else:
        table, frames, has_time = track_scene_file(detections, associator, config, not quiet)
    write_tracks(output, table, with_time=has_time)
    confirmed = np.unique(table.id[table.confirmed]).size
    click.echo(f"{output}: {len(table)} rows, {confirmed} confirmed tracks "
               f"({frames} frames, --assoc {backend})")
