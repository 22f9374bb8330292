"""Speed and memory of the scenario simulator, every preset side by side in one run.

Targets (issue 6): at least 1,000,000 detections per second on one core for the ``large`` preset,
and a 1,000-frame ``large`` scenario under 1 GB in RAM and on disk.

For each preset it generates the scene ``--repeats`` times (seeds 0, 1, ...) and reports the best
single-thread CPU time (``time.process_time``: what one core spends, little affected by other
processes sharing the machine) and the best wall time beside it, detections per second for both,
then in separate runs the peak memory traced while generating (``tracemalloc``, every numpy
allocation), the bytes the arrays keep, the .npz size on disk and the save and load times. The
machine load average is printed and stored with the numbers: wall times on a shared machine are
noisy, CPU times much less so.

    .venv/bin/python benchmarks/simulation.py [--frames 1000] [--repeats 3] [--out docs/results/sim]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # numpy's element-wise work is single-threaded anyway
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from common.atomic import write_text_atomic  # noqa: E402
from sim import generate, load  # noqa: E402
from sim.presets import PRESETS, get_preset  # noqa: E402

MB = 1e6
# (key, title, width, format) of the printed table
COLUMNS = [
    ("preset", "preset", 14, "s"),
    ("frames", "frames", 6, "d"),
    ("detections", "dets", 9, "d"),
    ("cpu_s", "cpu s", 7, ".3f"),
    ("wall_s", "wall s", 7, ".3f"),
    ("detections_per_cpu_s", "dets/cpu s", 11, ".3g"),
    ("detections_per_wall_s", "dets/wall s", 11, ".3g"),
    ("generate_peak_mb", "peak MB", 8, ".1f"),
    ("arrays_mb", "RAM MB", 7, ".1f"),
    ("file_mb", "file MB", 7, ".1f"),
    ("save_s", "save s", 6, ".2f"),
    ("load_s", "load s", 6, ".2f"),
]


def time_generation(config, repeats: int) -> dict:
    """Best CPU and wall seconds over ``repeats`` generations (seeds 0..repeats-1)."""
    cpu, wall = [], []
    for seed in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        scenario = generate(config, seed)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    detections = len(scenario.det_target)
    return {
        "frames": scenario.num_frames,
        "truth_rows": len(scenario.truth_id),
        "detections": detections,
        "cpu_s": min(cpu),
        "wall_s": min(wall),
        "detections_per_cpu_s": detections / min(cpu),
        "detections_per_wall_s": detections / min(wall),
    }


def measure_memory(config, folder: Path) -> dict:
    """Peak traced memory of generate and load, array bytes, file size, save/load wall times."""
    tracemalloc.start()
    scenario = generate(config, 0)
    generate_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    path = folder / f"{config.name}.npz"
    start = time.perf_counter()
    scenario.save(path)
    save_s = time.perf_counter() - start
    del scenario
    tracemalloc.start()
    start = time.perf_counter()
    loaded = load(path)
    load_s = time.perf_counter() - start
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "generate_peak_mb": generate_peak / MB,
        "arrays_mb": loaded.nbytes / MB,
        "file_mb": path.stat().st_size / MB,
        "load_peak_mb": load_peak / MB,
        "save_s": save_s,
        "load_s": load_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="frames of the large preset")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/results/sim"))
    args = parser.parse_args()

    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in PRESETS:
            config = get_preset(name)
            if name == "large":
                config = config.replace(frames=args.frames)
            rows[name] = {
                **time_generation(config, args.repeats),
                **measure_memory(config, Path(folder)),
            }

    print(" ".join(f"{title:>{width}s}" for _, title, width, _ in COLUMNS))
    for name, row in rows.items():
        row = {"preset": name, **row}
        print(" ".join(f"{row[key]:>{width}{form}}" for key, _, width, form in COLUMNS))
    large = rows["large"]
    print(
        f"\nlarge: {large['detections_per_cpu_s']:.3g} detections per CPU second (target >= 1e6); "
        f"generation peak {large['generate_peak_mb']:.0f} MB, arrays {large['arrays_mb']:.0f} MB, "
        f"file {large['file_mb']:.0f} MB (target < 1000 MB)"
    )
    load_average = os.getloadavg()
    print(f"load average {load_average[0]:.1f} on {os.cpu_count()} CPUs (wall times are noisy)")
    result = {
        "command": f"benchmarks/simulation.py --frames {args.frames} --repeats {args.repeats}",
        "machine": {"cpus": os.cpu_count(), "load_average_1min": load_average[0],
                    "python": platform.python_version(), "numpy": np.__version__},
        "presets": rows,
    }  # fmt: skip
    write_text_atomic(args.out / "bench.json", json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
