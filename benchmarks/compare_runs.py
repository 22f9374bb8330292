"""Paired change between two ``hard_scenes.py`` runs of the same presets and seeds (for example
the same trackers under two tracker configs), per preset and tracker.

Usage:
    .venv/bin/python benchmarks/compare_runs.py BEFORE.json AFTER.json [--names misses score-drop]
        [--trackers gnn jpda mht ...] [--out TABLE.md]

For every (preset, tracker) in both runs: MOTA (IDF1) of each, and the change AFTER - BEFORE
paired per seed, mean +- standard error. Unreadable files and runs whose seeds differ for a pair:
one ``Error:`` line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.hard_scenes import paired  # noqa: E402
from common.atomic import write_text_atomic  # noqa: E402


def paired_change(before: list[dict], after: list[dict], key: str) -> str:
    """``mean +- standard error`` of after - before over the seeds, paired by seed
    (:func:`benchmarks.hard_scenes.paired`); ValueError unless both hold the same seeds."""
    seeds = sorted(row["seed"] for row in before)
    if not seeds:
        raise ValueError("a run holds no seeds")
    if seeds != sorted(row["seed"] for row in after):
        raise ValueError(f"the runs' seeds differ ({seeds} against "
                         f"{sorted(row['seed'] for row in after)})")
    return paired(after, before, key)


def comparison_table(before: dict, after: dict, names: tuple[str, str],
                     trackers: list[str] | None) -> str:
    """Markdown table of every (preset, tracker) that both ``results`` dicts hold."""
    def mean(rows: list[dict], key: str) -> float:
        return sum(row[key] for row in rows) / len(rows)

    lines = [f"| preset | tracker | {names[0]} MOTA (IDF1) | {names[1]} MOTA (IDF1) | "
             "MOTA change | IDF1 change |", "|---|---|---|---|---|---|"]
    for preset, runs in before.items():
        for tracker, rows in runs.items():
            if (trackers and tracker not in trackers) or tracker not in after.get(preset, {}):
                continue
            other = after[preset][tracker]
            lines.append(
                f"| {preset} | {tracker} | {mean(rows, 'MOTA'):.3f} ({mean(rows, 'IDF1'):.3f}) | "
                f"{mean(other, 'MOTA'):.3f} ({mean(other, 'IDF1'):.3f}) | "
                f"{paired_change(rows, other, 'MOTA')} | {paired_change(rows, other, 'IDF1')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--names", nargs=2, default=("before", "after"))
    parser.add_argument("--trackers", nargs="*", help="only these trackers (default: all)")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    try:
        before, after = (json.loads(path.read_text())["results"]
                         for path in (args.before, args.after))
        table = comparison_table(before, after, tuple(args.names), args.trackers)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(2)
    print(table, end="")
    if args.out:
        write_text_atomic(args.out, table)


if __name__ == "__main__":
    main()
