"""``hste bench sinkhorn``: run the Sinkhorn diagnostics and write PNGs, JSON and a summary."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import torch

from common.cli_types import SEED
from common.errors import InputError
from experiments.sinkhorn_diagnostics.config import DiagnosticsConfig
from experiments.sinkhorn_diagnostics.parts import PART_NAMES, run_parts
from experiments.sinkhorn_diagnostics.report import JSON_NAME, SUMMARY_NAME, write_report


def command_line(part: str, out: Path, seed: int, quick: bool, config: Path | None) -> str:
    """The ``hste bench sinkhorn`` call that reproduces this run, for the summary."""
    words = ["hste", "bench", "sinkhorn", "--part", part, "--out", str(out), "--seed", str(seed)]
    words += ["--quick"] if quick else []
    words += ["--config", str(config)] if config is not None else []
    return shlex.join(words)


@click.command("sinkhorn")
@click.option(
    "--part",
    type=click.Choice(("all", *PART_NAMES)),
    default="all",
    show_default=True,
    help="Run one part only (default: all five).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/sinkhorn"),
    show_default=True,
    help="Output folder for PNGs, the JSON and summary.md.",
)
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the random matrices.")
@click.option("--quick", is_flag=True, help="Reduced run (seconds), for tests and a first look.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML file overriding settings, one table per part (see config.py).",
)
@click.option(
    "--threads", type=int, default=1, show_default=True, help="torch CPU threads (small matrices)."
)
def sinkhorn_command(
    part: str, out: Path, seed: int, quick: bool, config_path: Path | None, threads: int
) -> None:
    """The paper's Sinkhorn diagnostics: non-converging patterns, plateaus, variable length,
    vanishing gradients, assignment landscapes.

    Writes one or more PNGs per part, sinkhorn_diagnostics.json (every number) and summary.md
    (the numbers with the command that made them) under --out.

    \b
    Example:
        hste bench sinkhorn --out docs/results/sinkhorn
        hste bench sinkhorn --part plateaus --quick --out /tmp/plateaus
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if threads < 1:
        raise InputError(f"--threads must be >= 1; got {threads}")
    base = DiagnosticsConfig.quick() if quick else DiagnosticsConfig()
    config = base if config_path is None else DiagnosticsConfig.from_toml(config_path, base)
    torch.set_num_threads(threads)
    names = PART_NAMES if part == "all" else (part,)
    out.mkdir(parents=True, exist_ok=True)
    run = run_parts(names, config, seed, out, show_progress=True)
    write_report(run, config, seed, command_line(part, out, seed, quick, config_path), out)
    figures = sum(len(paths) for paths in run.figures.values())
    click.echo(f"wrote {out / SUMMARY_NAME}, {out / JSON_NAME} and {figures} PNGs")
