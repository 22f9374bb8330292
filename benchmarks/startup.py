"""Startup benchmark: wall and CPU time of ``hste --help`` and ``hste track`` on a 100-frame CSV.

Usage:
    .venv/bin/python benchmarks/startup.py [--repeats 5] [--baseline /path/to/old/checkout]
        [--json docs/results/tracker/startup.json]

Each command runs as a fresh process (``python -c "from tracker.cli import main; main()"``, the
console script's own entry) ``--repeats`` times; with ``--baseline`` (another checkout of the
project, e.g. ``git archive`` of an older commit) the two code versions alternate A B A B, so
both see the same machine load. Reported: median wall seconds and median CPU seconds (user +
system of the child). The input is a 100-frame scene (``hste simulate --preset default --seed
1``) exported as a detections CSV (``--detections-csv``/``--sensor-toml``); the baseline, which
cannot read CSVs, tracks the scene's .npz instead (the same detections). Prints a table and
writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common.atomic import write_text_atomic  # noqa: E402

ENTRY = "import sys; from tracker.cli import main; sys.argv[0] = 'hste'; main()"


def timed(args: list[str], checkout: Path, cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one ``hste ARGS`` process run from ``checkout``'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout to compare with (A B alternation)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hste-startup-"))
    subprocess.run([sys.executable, "-c", ENTRY, "simulate", "--preset", "default", "--seed", "1",
                    "--frames", "100", "-o", "scene.npz", "--detections-csv", "dets.csv",
                    "--sensor-toml", "sensor.toml"], cwd=folder, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    commands = {
        "hste --help": (["--help"], ["--help"]),
        "hste track (100-frame CSV)": (
            ["track", "dets.csv", "--sensor", "sensor.toml", "-o", "t.csv", "--quiet"],
            ["track", "scene.npz", "-o", "t.csv", "--quiet"]),
    }
    versions = {"this": ROOT} | ({"baseline": args.baseline} if args.baseline else {})
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {version: [] for version in versions} for name in commands}
    for _ in range(args.repeats):
        for name, (current, old) in commands.items():
            for version, checkout in versions.items():
                command = current if version == "this" else old
                samples[name][version].append(timed(command, checkout, folder))
    rows = []
    for name, by_version in samples.items():
        for version, values in by_version.items():
            rows.append({"command": name, "version": version,
                         "wall_s_median": statistics.median(v[0] for v in values),
                         "cpu_s_median": statistics.median(v[1] for v in values),
                         "wall_s": [v[0] for v in values], "cpu_s": [v[1] for v in values]})
    print(f"{'command':<28} {'version':<9} {'wall s':>8} {'CPU s':>8}")
    for row in rows:
        print(f"{row['command']:<28} {row['version']:<9} {row['wall_s_median']:>8.3f} "
              f"{row['cpu_s_median']:>8.3f}")
    document = {"repeats": args.repeats, "python": sys.version.split()[0],
                "load_average": os.getloadavg(), "results": rows}
    if args.json:
        write_text_atomic(args.json, json.dumps(document, indent=2) + "\n")
    print(json.dumps({r["command"] + " / " + r["version"]: round(r["wall_s_median"], 3)
                      for r in rows}))


if __name__ == "__main__":
    main()
