"""``hste train``: train the association network on freshly simulated scenes.

Runs alone, under ``torchrun`` (one process per rank; gloo on CPU, nccl on GPU) or with
``--nproc K`` spawning K ranks on this machine; see :mod:`tracker.distributed`. Also runnable as
``python -m tracker.commands.train`` (what ``torchrun -m`` needs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import torch

from common.atomic import refuse_overwriting_inputs
from common.config import cli_options
from common.errors import InputError
from tracker.association.learned import read_checkpoint
from tracker.distributed import RankContext, destroy_process_group, init_process_group, spawn
from tracker.run_folder import RUN_FILES, check_resume_options, epochs_left, prepare_fresh_run
from tracker.training import TrainingConfig, resume_state, train


def resolve_config(config_path: Path | None, out: Path, resume: bool,
                   overrides: dict[str, Any]) -> TrainingConfig:
    """The run's config: the checkpoint's (``--resume``) or the TOML file's or the defaults,
    with the options given on the command line on top."""
    if resume:
        saved = read_checkpoint(out / "checkpoint.pt").get("training")
        if not isinstance(saved, dict):
            raise InputError(f"{out / 'checkpoint.pt'}: no training state to resume")
        base = TrainingConfig.from_dict(saved)
    elif config_path is not None:
        base = TrainingConfig.from_toml(config_path)
    else:
        base = TrainingConfig()
    return base.replace(**{k: v for k, v in overrides.items() if v is not None})


def run_rank(config: TrainingConfig, out: Path, resume: bool, threads: int) -> bool:
    """One rank's training (rank 0 alone when not distributed); True on rank 0."""
    torch.set_num_threads(threads)
    context = init_process_group()
    try:
        train(config, out, resume=resume, context=context)
    finally:
        destroy_process_group()
    return context.is_main


@click.command("train")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Training config TOML (flat keys, the options below); options override it.")
@cli_options(TrainingConfig)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/train"), show_default=True,
              help="Folder for checkpoint.pt, best.pt and log.csv.")
@click.option("--resume", is_flag=True,
              help="Continue from OUT/checkpoint.pt (its config; only --epochs may change).")
@click.option("--overwrite", is_flag=True,
              help="Replace the run already in OUT (without it such a folder is refused).")
@click.option("--nproc", type=click.IntRange(min=1), default=1, show_default=True,
              help="Ranks to spawn on this machine (data parallel; gloo on CPU).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch threads per rank (the network is small: more threads rarely help).")
def train_command(config_path: Path | None, out: Path, resume: bool, overwrite: bool,
                  nproc: int, threads: int, **overrides: Any) -> None:
    """Train the association network (HSTE or Gumbel-Sinkhorn) on simulated scenes.

    Each epoch simulates fresh scenes, records the association problems a gnn tracker meets,
    trains on them, then scores the network on validation scenes against gnn. OUT gets
    checkpoint.pt (every epoch, with optimiser state), best.pt (best validation MOTA; use it
    with `hste track --assoc learned --model`) and log.csv. Batch sizes are global: with K
    ranks each simulates and processes 1/K of every batch.

    \b
    Example:
        hste train --preset crossing --epochs 6 --out out/crossing
        hste train --out out/crossing --resume --epochs 10
        hste train --preset crossing --nproc 2 --out out/ddp
        hste train --preset crossing --mode end-to-end --unroll 20 --out out/e2e
        hste train --preset manoeuvring --tracker-config tracker.toml --out out/man
        hste train --preset formation+sea-clutter+low-snr --out out/mixture
        torchrun --nproc-per-node 2 -m tracker.commands.train --out out/ddp
    """
    if resume:
        check_resume_options(config_path is not None, overwrite)
    config = resolve_config(config_path, out, resume, overrides)
    # bad settings refused here, once, not in every rank
    [config.scenario(index) for index in range(len(config.presets()))]
    config.network(), config.tracker()
    if config.unroll:
        config.unroll_config()
    RankContext(0, nproc).share(config.batch_scenes)
    if config.unroll and nproc > 1:
        raise InputError("unrolled training (--unroll K > 0) runs on one rank; use --nproc 1")
    if resume:
        done = resume_state(out / "checkpoint.pt", config).epoch
        if epochs_left(out, done, config.epochs) == 0:
            click.echo(f"{out}: all {done} epoch(s) already done; nothing to train (give "
                       f"--epochs > {done} to train more)", err=True)
            return
    else:
        refuse_overwriting_inputs([out / name for name in RUN_FILES],
                                  [config_path, config.scenario_config or None,
                                   config.tracker_config or None])
        prepare_fresh_run(out, overwrite)
    if nproc > 1:
        spawn(nproc, run_rank, (config, out, resume, threads), threads=threads)
    elif not run_rank(config, out, resume, threads):
        return
    click.echo(f"checkpoint: {out / 'checkpoint.pt'}\nbest model: {out / 'best.pt'}\n"
               f"log:        {out / 'log.csv'}")


if __name__ == "__main__":
    import sys

    from tracker.cli import main

    main(["train", *sys.argv[1:]], prog_name="hste")
