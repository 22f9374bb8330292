"""One table of tracking quality for the unrolled training modes next to gnn and the per-frame
trained models, from ``benchmarks.learned_quality`` outputs on the same seeds.

Every ``quality.json`` holds gnn on its seeds; the script checks that gnn's per-seed numbers
agree (to rounding) across files (same scenes, same tracker), then prints per tracker MOTA, IDF1,
GOSPA and the paired differences (mean ± one standard error over seeds) to gnn and to the
per-frame supervised HSTE model (``--reference``, a tracker name in one of the files). Writes
``--out`` (markdown).

    python -m benchmarks.unroll_report --preset crossing \\
        --quality docs/results/learned/crossing/quality.json \\
        --quality docs/results/unroll/eval/crossing-e2e-hste/quality.json \\
        --out docs/results/unroll/crossing.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common.atomic import write_text_atomic


def paired(values: np.ndarray, baseline: np.ndarray) -> str:
    """``+mean ± se`` of the per-seed differences."""
    difference = values - baseline
    se = difference.std(ddof=1) / np.sqrt(difference.size) if difference.size > 1 else 0.0
    return f"{difference.mean():+.3f} ± {se:.3f}"


def same_rows(first: list[dict], second: list[dict]) -> bool:
    """Per-seed metric rows equal up to float rounding (1e-9 relative)."""
    return len(first) == len(second) and all(
        np.isclose(a[m], b[m], rtol=1e-9, atol=0.0) for a, b in zip(first, second, strict=True)
        for m in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--quality", action="append", type=Path, required=True)
    parser.add_argument("--reference", default="hste")
    parser.add_argument("--keep", action="append", default=None,
                        help="tracker names to show (default: all)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    per_seed: dict[str, list[dict]] = {}
    seeds = None
    for path in args.quality:
        content = json.loads(path.read_text())
        if seeds is not None and (content["seeds"] != seeds or not same_rows(
                content["per_seed"]["gnn"], per_seed["gnn"])):
            raise SystemExit(f"{path}: other seeds or another gnn result; not comparable")
        seeds = content["seeds"]
        per_seed.update(content["per_seed"])
    names = [n for n in per_seed if args.keep is None or n in args.keep or n == "gnn"]
    column = {name: {m: np.array([row[m] for row in per_seed[name]])
                     for m in ("MOTA", "IDF1", "GOSPA_mean")} for name in per_seed}
    reference = column.get(args.reference)
    lines = [f"| tracker | MOTA | IDF1 | GOSPA (m) | MOTA - gnn | IDF1 - gnn | GOSPA - gnn "
             f"| MOTA - {args.reference} |", "|---|---|---|---|---|---|---|---|"]
    for name in names:
        values = column[name]
        cells = [f"{values[m].mean():.3f}" for m in ("MOTA", "IDF1")]
        cells.append(f"{values['GOSPA_mean'].mean():.2f}")
        cells += [paired(values[m], column["gnn"][m]) for m in ("MOTA", "IDF1", "GOSPA_mean")]
        cells.append(paired(values["MOTA"], reference["MOTA"]) if reference is not None else "")
        lines.append("| " + " | ".join([name, *cells]) + " |")
    table = "\n".join(lines)
    command = "python -m benchmarks.unroll_report " + " ".join(sys.argv[1:])
    print(table)
    write_text_atomic(args.out, f"# {args.preset}, seeds {seeds}\n\nCommand: `{command}`\n\n"
                                f"{table}\n")


if __name__ == "__main__":
    main()
