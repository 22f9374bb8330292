"""Foreign scenes: a small generator independent of ``sim``, writing the detection-file formats.

Not our simulator, on purpose (the issue's "scenes this project did not generate"): numpy only,
its own motion and sensor model, written to the files any tracker can read:

- targets: 2-D nearly-constant velocity (discrete white-noise acceleration, std ``accel`` m/s^2
  per axis per step), starting uniformly in the inner 80 % of the region, heading uniform, speed
  uniform in 5-20 m/s; all alive for the whole scene; a target outside the region is not
  detected and not in the truth;
- sensor: position-only, Gaussian noise ``sigma`` m per axis, detection probability ``pd``;
  clutter: Poisson(``clutter``) per scan, uniform over the region;
- scans ``dt`` s apart.

Files (prefix P): ``P_dets.csv`` (``frame,time,x,y``), ``P_sensor.toml`` (the sensor's known
parameters in the tracker's sensor TOML) and ``P_gt.csv`` (``frame,id,x,y,vx,vy``, MOTChallenge
layout, 1-based frames).

Example:
    python benchmarks/foreign_scenes.py --targets 10 --clutter 50 --seed 1 --prefix /tmp/f1
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SceneKind:
    """One kind of foreign scene (units: m, s, m/s^2)."""

    targets: int = 10
    clutter: float = 10.0
    frames: int = 100
    dt: float = 1.0
    sigma: float = 5.0
    pd: float = 0.9
    accel: float = 0.5
    half_width: float = 1000.0

    @property
    def region(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) m."""
        w = self.half_width
        return (-w, w, -w, w)


def generate(kind: SceneKind, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Detections (K, 3) ``[frame, x, y]`` (frames 1-based, time order) and truth (N, 6)
    ``[frame, id, x, y, vx, vy]`` of one scene drawn with ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    inner = 0.8 * kind.half_width
    position = rng.uniform(-inner, inner, (kind.targets, 2))
    heading = rng.uniform(-np.pi, np.pi, kind.targets)
    speed = rng.uniform(5.0, 20.0, kind.targets)
    velocity = np.stack([np.cos(heading), np.sin(heading)], axis=1) * speed[:, None]
    detections, truth = [], []
    ids = np.arange(1, kind.targets + 1)
    for frame in range(1, kind.frames + 1):
        if frame > 1:
            accel = rng.normal(0.0, kind.accel, (kind.targets, 2))
            position = position + velocity * kind.dt + 0.5 * accel * kind.dt**2
            velocity = velocity + accel * kind.dt
        inside = np.all(np.abs(position) <= kind.half_width, axis=1)
        truth.append(np.column_stack([np.full(inside.sum(), frame), ids[inside],
                                      position[inside], velocity[inside]]))
        seen = inside & (rng.random(kind.targets) < kind.pd)
        measured = position[seen] + rng.normal(0.0, kind.sigma, (int(seen.sum()), 2))
        false = rng.uniform(-kind.half_width, kind.half_width, (rng.poisson(kind.clutter), 2))
        points = np.concatenate([measured, false])
        points = points[rng.permutation(len(points))]  # the row order says nothing
        detections.append(np.column_stack([np.full(len(points), frame), points]))
    return np.concatenate(detections), np.concatenate(truth)


def write(kind: SceneKind, seed: int, prefix: str | Path) -> dict[str, Path]:
    """Write the three files of one scene; returns their paths (keys dets, sensor, gt)."""
    detections, truth = generate(kind, seed)
    paths = {name: Path(f"{prefix}_{name}.{ext}")
             for name, ext in (("dets", "csv"), ("sensor", "toml"), ("gt", "csv"))}
    time = (detections[:, 0] - 1) * kind.dt
    np.savetxt(paths["dets"], np.column_stack([detections[:, 0], time, detections[:, 1:]]),
               delimiter=",", fmt=["%d", "%.6f", "%.4f", "%.4f"], header="frame,time,x,y",
               comments="")
    np.savetxt(paths["gt"], truth, delimiter=",", fmt=["%d", "%d"] + ["%.4f"] * 4,
               header="frame,id,x,y,vx,vy", comments="")
    region = ", ".join(f"{v:.1f}" for v in kind.region)
    paths["sensor"].write_text(
        f'kind = "cartesian"\nsigma = {kind.sigma}\npd = {kind.pd}\n'
        f"clutter_rate = {kind.clutter}\nregion = [{region}]\ndt = {kind.dt}\n")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--clutter", type=float, default=10.0)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    paths = write(SceneKind(args.targets, args.clutter, args.frames), args.seed, args.prefix)
    print(" ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
