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
from common.cli_types import JoinedChoice
from common.errors import InputError
from tracker.association.learned import read_checkpoint
from tracker.association.losses import MODES, OPERATORS
from tracker.distributed import RankContext, destroy_process_group, init_process_group, spawn
from tracker.run_folder import RUN_FILES, check_resume_options, epochs_left, prepare_fresh_run
from tracker.scene_source import PRESETS
from tracker.training import TrainingConfig, resume_state, train

# option name -> click type; each overrides the TrainingConfig field of the same name when given.
OVERRIDES: dict[str, Any] = {
    "preset": JoinedChoice(sorted(PRESETS)),
    "scenario_config": click.Path(dir_okay=False),
    "frames": click.IntRange(min=1),
    "mode": click.Choice(MODES),
    "operator": click.Choice(OPERATORS),
    "epochs": click.IntRange(min=0),
    "scenes_per_epoch": click.IntRange(min=1),
    "batch_scenes": click.IntRange(min=1),
    "passes": click.IntRange(min=1),
    "lr": click.FloatRange(min=0.0, min_open=True),
    "evidence_lr": click.FloatRange(min=0.0, min_open=True),
    "hidden": click.IntRange(min=1),
    "rounds": click.IntRange(min=0),
    "tau": click.FloatRange(min=0.0, min_open=True),
    "noise": click.FloatRange(min=0.0),
    "samples": click.IntRange(min=1),
    "evidence_weight": click.FloatRange(min=0.0),
    "validation_scenes": click.IntRange(min=0),
    "behaviour": click.Choice(["gnn", "model"]),
    "seed": int,
    "unroll": click.IntRange(min=0),
}
HELP = {
    "preset": f"Scene preset to simulate training scenes from ({', '.join(sorted(PRESETS))}), "
              "or several joined by + (a mixture: scene i from preset i mod n).",
    "scenario_config": "Scenario TOML to simulate from instead of the preset.",
    "frames": "Frames per training scene.",
    "mode": "supervised (true association), end-to-end (true positions only), unsupervised.",
    "operator": "hste (Hungarian + straight-through), sinkhorn (Gumbel-Sinkhorn), perturbed, "
                "blackbox or hste-softmax (tracker.perm.OPERATORS).",
    "epochs": "Epochs; each simulates fresh scenes.",
    "scenes_per_epoch": "Scenes simulated per epoch (global, over all ranks).",
    "batch_scenes": "Scenes per optimiser step (global batch; divisible by the ranks).",
    "passes": "Passes over each epoch's scenes.",
    "lr": "AdamW learning rate (cosine decay to lr/10); for the global batch.",
    "evidence_lr": "AdamW learning rate of the detection evidence model (same schedule).",
    "hidden": "Width of the network.",
    "rounds": "Message-passing rounds across pairs.",
    "tau": "Temperature of the permutation operator.",
    "noise": "Gumbel noise scale.",
    "samples": "Gumbel samples per association problem.",
    "evidence_weight": "Weight of the detection evidence loss (supervised only; 0: no evidence).",
    "validation_scenes": "Scenes scored (MOTA, IDF1 vs gnn) after every epoch.",
    "behaviour": "Who tracks the training scenes: gnn, or the model being trained (DAgger).",
    "seed": "Seed of scenes, initial weights and noise.",
    "unroll": "0: per-frame problems (default); K: train through the tracker unrolled over "
              "windows of K frames (end-to-end, unsupervised; one rank).",
}


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


def _with_overrides(command):
    for name in reversed(OVERRIDES):
        command = click.option(f"--{name.replace('_', '-')}", name, type=OVERRIDES[name],
                               default=None, help=HELP[name])(command)
    return command


@click.command("train")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Training config TOML (flat keys, the options below); options override it.")
@_with_overrides
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
        hste train --preset formation+sea-clutter+low-snr --out out/mixture
        torchrun --nproc-per-node 2 -m tracker.commands.train --out out/ddp
    """
    if resume:
        check_resume_options(config_path is not None, overwrite)
    config = resolve_config(config_path, out, resume, overrides)
    # bad settings refused here, once, not in every rank
    [config.scenario(index) for index in range(len(config.presets()))], config.network()
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
                                  [config_path, config.scenario_config or None])
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
