"""``hste bench jigsaw``: the MNIST jigsaw sweep (sizes x methods x models x seeds), resumable.

Writes into ``--out``: ``checkpoints/<run>.pt`` (one per run, rewritten every epoch; rerunning
the same command resumes or skips finished runs), ``history.csv`` (one row per run and epoch),
``results.csv`` (long format: method, size, seed, then the final-epoch metrics), the Fig. 3 PNG
of Gumbel-Sinkhorn's training constraint error, and ``report.md`` beside the paper's Table 4.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import multiprocessing
import shlex
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import click
import torch
from tqdm import tqdm

from common.atomic import write_text_atomic
from common.errors import InputError
from experiments.jigsaw import (
    METHODS,
    MODELS,
    JigsawConfig,
    epochs_done,
    finished_history,
    run,
    train_size,
)
from experiments.jigsaw_report import write_jigsaw_report
from experiments.mnist import load_split
from tracker.perm import canonical_operator
from tracker.perm.operators import ALIASES

DEFAULT_LR = {"paper": 1e-4, "ours": 5e-4}


def parse_list(kind: type, choices: tuple[str, ...] | None = None):
    """A click callback turning "a,b,c" into a tuple of ``kind``, checked against ``choices``."""

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> tuple:
        try:
            items = tuple(kind(item) for item in value.split(",") if item.strip())
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a comma-separated list") from None
        if not items:
            raise click.BadParameter("empty list")
        bad = [item for item in items if choices is not None and item not in choices]
        if bad:
            raise click.BadParameter(f"{bad[0]!r} is not one of {', '.join(choices)}")
        return items

    return callback


def parse_operators(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """A click callback: "a,b" -> operator names, old spellings (``gumbel_sinkhorn``) mapped."""
    names = parse_list(str)(ctx, param, value)
    try:
        return tuple(canonical_operator(name) for name in names)
    except ValueError:
        bad = next(name for name in names if name not in METHODS and name not in ALIASES)
        raise click.BadParameter(f"{bad!r} is not one of {', '.join(METHODS)}") from None


def result_row(config: JigsawConfig, history: list[dict]) -> dict:
    """The results.csv row of one finished run: final-epoch metrics, mean epoch time."""
    last = history[-1]
    row = {"method": config.label, "size": config.size, "seed": config.seed}
    row.update({name: value for name, value in last.items() if name != "epoch"})
    row["epoch_time_s"] = sum(h["epoch_time_s"] for h in history) / len(history)
    return row


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` atomically as CSV; the header is the union of their keys, first seen first."""
    header = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def sweep_configs(base: JigsawConfig, sizes, methods, models, seeds, lr: float | None):
    """Every run of the sweep: the paper's model with each method, ours with each method."""
    return [
        dataclasses.replace(base, size=size, method=method, model=model, seed=seed,
                            lr=lr if lr is not None else DEFAULT_LR[model])
        for model in models for size in sizes for method in methods for seed in seeds
    ]


def plan_sweep(config_path: Path | None, epochs: int, train_subset: int, eval_subset: int,
               sizes, methods, models, seeds, lr: float | None
               ) -> tuple[JigsawConfig, list[JigsawConfig]]:
    """The base config and every run of a sweep, from the options of ``hste bench jigsaw``."""
    base = JigsawConfig.from_toml(config_path) if config_path else JigsawConfig()
    base = dataclasses.replace(base, epochs=epochs, train_subset=train_subset,
                               eval_subset=eval_subset)
    return base, sweep_configs(base, sizes, methods, models, seeds, lr)


@click.command("jigsaw")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder with the four MNIST IDX files (gzip or raw).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="runs/jigsaw",
              show_default=True, help="Output folder (checkpoints, CSVs, PNG, report).")
@click.option("--sizes", default="2,3,4,5,6", show_default=True, callback=parse_list(int),
              help="Comma-separated M values (M x M pieces).")
@click.option("--methods", default="hste,sinkhorn", show_default=True, callback=parse_operators,
              help=f"Comma-separated permutation operators, from: {', '.join(METHODS)} "
              "(sinkhorn with the noise is Gumbel-Sinkhorn).")
@click.option("--models", default="paper", show_default=True, callback=parse_list(str, MODELS),
              help="paper = the paper's scorer; ours = piece encoder + attention across pieces.")
@click.option("--seeds", default="0", show_default=True, callback=parse_list(int),
              help="Comma-separated seeds (initialisation, shuffles, noise).")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True,
              help="Training epochs per run (a finished run can be extended).")
@click.option("--train-subset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Train on the first N training images only (0 = all 60,000).")
@click.option("--eval-subset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Evaluate on the first N test images only (0 = all 10,000).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Adam learning rate for every run [default: 1e-4 paper, 5e-4 ours].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML with further JigsawConfig fields (batch_size, samples, "
              "noise, ...); the options here take precedence.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch CPU threads (per run).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs trained at once, each in its own process (costliest first); the "
              "per-run progress bars are then replaced by one line per epoch.")
@click.option("--report-only", is_flag=True,
              help="Train nothing: write the report from the runs that have finished (for a "
              "sweep run as several shards into one --out while some are still training).")
def jigsaw_command(data_dir, out, sizes, methods, models, seeds, epochs, train_subset,
                   eval_subset, lr, config_path, threads, jobs, report_only) -> None:
    """MNIST jigsaw (paper 4.1): Gumbel-Sinkhorn vs HSTE, Table 4 metrics and Fig. 3.

    Each M x M cut uses floor(28/M)-pixel pieces of the centred M*floor(28/M) crop. Rerunning
    the same command resumes unfinished runs from their last epoch and skips finished ones.

    \b
    Example (a quick reduced run; drop the subset options for the paper's setting):
        hste bench jigsaw --data-dir ../shared/data/mnist --out runs/jigsaw \\
            --sizes 2,3 --epochs 2 --train-subset 2000 --eval-subset 1000
    The paper's sweep on a 2-core machine:
        hste bench jigsaw --data-dir ../shared/data/mnist --out runs/jigsaw_full --jobs 2
    """
    torch.set_num_threads(threads)
    base, configs = plan_sweep(config_path, epochs, train_subset, eval_subset, sizes, methods,
                               models, seeds, lr)
    train_images = load_split(data_dir, "train").images
    eval_images = load_split(data_dir, "test").images
    params = dict(click.get_current_context().params)
    params.pop("report_only")
    command = command_line(params)
    if report_only:
        histories = [finished_history(checkpoint_path(out, c), c) for c in configs]
    elif jobs > 1:
        histories = train_in_parallel(configs, data_dir, out, jobs, threads)
    else:
        histories = (train_with_progress(c, train_images, eval_images, out) for c in configs)
    history_rows, result_rows = [], []
    for config, history in zip(configs, histories, strict=True):
        if history is None:
            continue
        tags = {"method": config.label, "size": config.size, "seed": config.seed}
        history_rows += [{**tags, **row} for row in history]
        result_rows.append(result_row(config, history))
        write_csv(out / "history.csv", history_rows)
        write_csv(out / "runs.csv", result_rows)
    if not result_rows:
        raise InputError(f"no finished runs of this sweep in {out}")
    write_jigsaw_report(out, result_rows, history_rows, configs, eval_images, command,
                        protocol_notes(base))
    click.echo(f"wrote {out / 'results.csv'}, {out / 'report.md'}")


def command_line(params: dict) -> str:
    """The full ``hste bench jigsaw`` command for resolved options (every option spelled out)."""
    words = ["hste", "bench", "jigsaw"]
    for name, value in params.items():
        if value is None:
            continue
        text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        words += ["--" + ("config" if name == "config_path" else name.replace("_", "-")), text]
    return shlex.join(words)


def protocol_notes(base: JigsawConfig) -> str:
    """Markdown on the training protocol, flagging a reduced run."""
    reduced = base.epochs != 20 or base.train_subset or base.eval_subset
    lines = ["## Protocol", ""]
    if reduced:
        lines += [f"**REDUCED run, not the paper's protocol**: {base.epochs} epochs, training "
                  f"on {base.train_subset or 60000} images, evaluating on "
                  f"{base.eval_subset or 10000} (paper: 20 epochs, 60,000 / 10,000).", ""]
    lines += [
        f"Batch {base.batch_size}, {base.samples} Gumbel samples, noise {base.noise}, "
        f"temperature {base.tau}, Sinkhorn L = {base.sinkhorn_iters}, Adam. Pieces of "
        "floor(28/M) pixels cut from the centred M*floor(28/M) crop (the 28 - M*floor(28/M) "
        "leftover border pixels, 0 to 4, are dropped; l1/l2 are over the crop, pixels in [0, 1]).",
        "Evaluation: exact Hungarian on the noise-free scores, each test image shuffled once "
        "with a fixed seed. Kendall tau is measured in position space (true positions of the "
        "pieces placed at 0..N-1 against 0..N-1). \"content\" metrics count pieces with "
        "identical pixels as interchangeable (see the tie bound below). Training-set metrics: "
        f"first {base.train_eval_limit} training images, after the last epoch. The constraint "
        "error is max(Err_r, Err_c); train values (mean, max) are over every noisy training "
        "permutation of the last epoch; eval values are Sinkhorn's on the noise-free scores. "
        "Epoch times are wall time on a shared, loaded 2-core machine (noisy).",
        "`ours_hste`: our model (piece CNN + Transformer encoder across the pieces, no "
        "positional encoding), trained with HSTE, lr 5e-4; the paper's model uses lr 1e-4.",
    ]
    return "\n\n".join(line for line in lines if line) + "\n"


def train_with_progress(config: JigsawConfig, train_images, eval_images, out: Path,
                        show_bar: bool = True) -> list[dict]:
    """Run one config with a tqdm bar (stderr, unless ``show_bar`` is False) and one summary
    line per epoch."""
    per_epoch = train_size(config, len(train_images))
    resumed = epochs_done(checkpoint_path(out, config), config)
    with tqdm(total=config.epochs * per_epoch, initial=resumed * per_epoch, desc=config.run_name,
              unit="img", file=sys.stderr, leave=False, mininterval=2.0,
              disable=not show_bar) as bar:

        def on_epoch(row: dict) -> None:
            bar.write(
                f"{config.run_name} epoch {row['epoch']}/{config.epochs}: loss {row['loss']:.4f}"
                f", eval tau {row['eval_kendall_tau']:.3f}, constraint err (train mean)"
                f" {row['step_constraint_error_mean']:.3g}, {row['epoch_time_s']:.0f} s",
                file=sys.stderr,
            )

        return run(config, train_images, eval_images, checkpoint_path(out, config),
                   on_epoch=on_epoch, progress=lambda n: bar.update(n))


def estimated_epoch_cost(config: JigsawConfig) -> float:
    """Relative cost of one epoch, for ordering only: N = M^2 pieces, Gumbel-Sinkhorn x 3
    (roughly the measured epoch times of the full sweep, docs/results/jigsaw/README.md)."""
    return config.size**2 * (3.0 if config.method == "sinkhorn" else 1.0)


def train_in_parallel(configs: Sequence[JigsawConfig], data_dir: Path, out: Path, jobs: int,
                      threads: int) -> list[list[dict]]:
    """Train ``configs`` in ``jobs`` processes of ``threads`` torch threads each, costliest
    first; returns their histories in the order of ``configs``."""
    for config in configs:  # a bad checkpoint fails now, not when a worker reaches it hours later
        epochs_done(checkpoint_path(out, config), config)
    order = sorted(range(len(configs)), key=lambda i: -estimated_epoch_cost(configs[i]))
    histories: list[list[dict]] = [[] for _ in configs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=torch.set_num_threads,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(_train_in_worker, configs[i], data_dir, out): i for i in order}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                index = futures[future]
                histories[index] = future.result()
                click.echo(f"finished {configs[index].run_name} ({done} of {len(configs)})",
                           err=True)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # runs in progress keep checkpoints
            raise
    return histories


@functools.cache
def _splits(data_dir: Path):
    """The training and test images, loaded once per worker process."""
    return load_split(data_dir, "train").images, load_split(data_dir, "test").images


def _train_in_worker(config: JigsawConfig, data_dir: Path, out: Path) -> list[dict]:
    return train_with_progress(config, *_splits(data_dir), out, show_bar=False)


def checkpoint_path(out: Path, config: JigsawConfig) -> Path:
    return out / "checkpoints" / f"{config.run_name}.pt"
