"""The report of a jigsaw sweep (``hste bench jigsaw``), through :mod:`experiments.report`.

Adds to the shared writer: Fig. 3 of the paper (Gumbel-Sinkhorn's constraint error
max(Err_r, Err_c) during training, mean and max over every training permutation of an epoch, one
line per M), the per-epoch history, and the tie bound of every M (the best Kendall tau any model
can reach in expectation when identical pieces cannot be told apart). The paper's Table 4 goes
beside ours (its Kendall tau beside our list-form one).

A finished sweep's report can be rebuilt from its stored CSVs alone (no checkpoints), which also
puts the current paper columns into it:

    python -m experiments.jigsaw_report --results docs/results/jigsaw/full \
        --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import csv
import json
import shlex
from collections.abc import Sequence
from pathlib import Path

import click
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from common.atomic import atomic_path  # noqa: E402
from common.errors import InputError  # noqa: E402
from experiments.jigsaw import EVAL_SEED_OFFSET, JigsawConfig, subset, tie_bound  # noqa: E402
from experiments.paper_values import JIGSAW_TABLE4_NOTE, jigsaw_table4  # noqa: E402
from experiments.report import Metric, plot_metric, summarise, write_report  # noqa: E402
from tracker.perm.operators import ALIASES  # noqa: E402

FIG3_NAME = "fig3_constraint_error.png"
SET_METRICS = (("kendall_tau_list", "Kendall tau, list form (the paper's metric)", False),
               ("kendall_tau", "Kendall tau over misordered pairs (ours)", False),
               ("prop_wrong", "Prop. wrong", False),
               ("prop_any_wrong", "Prop. any wrong", False), ("l1", "l1", True),
               ("l2", "l2", True))
METRICS: tuple[Metric, ...] = (
    *(Metric(f"eval_{key}", f"{label} (eval)", log_y) for key, label, log_y in SET_METRICS),
    Metric("eval_kendall_tau_content", "content Kendall tau (eval)"),
    Metric("eval_prop_wrong_content", "content Prop. wrong (eval)"),
    Metric("eval_constraint_error_mean", "constraint error (eval, no noise)", True, 4),
    *(Metric(f"train_{key}", f"{label} (train)", log_y) for key, label, log_y in SET_METRICS),
    Metric("step_constraint_error_mean", "train constraint error, mean", True, 4),
    Metric("step_constraint_error_max", "train constraint error, max", True, 4),
    Metric("epoch_time_s", "training time per epoch [s]", digits=1),
)
PLOTTED = ("eval_kendall_tau", "eval_kendall_tau_content", "eval_prop_wrong", "eval_l2",
           "epoch_time_s")
SIZE_LABEL = "M (M x M pieces)"


def plot_constraint_error(history_rows: list[dict], path: Path) -> bool:
    """Draw Fig. 3 from history rows of Gumbel-Sinkhorn runs; False (no file) if there are none.

    Rows with the same (size, epoch) from several seeds are combined: mean of the means, max of
    the maxima.
    """
    rows = [r for r in history_rows if r["method"].endswith("sinkhorn")]
    if not rows:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for method in sorted({r["method"] for r in rows}):
        for size in sorted({r["size"] for r in rows if r["method"] == method}):
            mine = [r for r in rows if r["method"] == method and r["size"] == size]
            epochs = sorted({r["epoch"] for r in mine})
            means = [_combine(mine, e, "step_constraint_error_mean", _mean) for e in epochs]
            maxima = [_combine(mine, e, "step_constraint_error_max", max) for e in epochs]
            label = f"{size}x{size}" + ("" if method == "sinkhorn" else f" ({method})")
            axes[0].plot(epochs, means, marker="o", label=label)
            axes[1].plot(epochs, maxima, marker="o", label=label)
    for ax, kind in zip(axes, ("mean", "max"), strict=True):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{kind} of max(Err_r, Err_c) over training permutations")
        ax.set_title(f"Gumbel-Sinkhorn (L=20): {kind} per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="pieces")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return True


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _combine(rows: list[dict], epoch: int, key: str, reduce) -> float:
    return reduce([float(r[key]) for r in rows if r["epoch"] == epoch])


def tie_bound_lines(eval_images, config: JigsawConfig, sizes: Sequence[int]) -> list[str]:
    """Markdown table of :func:`tie_bound` on the evaluation set for every size."""
    images = subset(torch.from_numpy(eval_images), config.eval_subset)
    lines = ["## Tie bound: the best any model can reach on the paper's metrics", "",
             "Pieces with identical pixels (mostly blank corners) cannot be told apart, so which",
             "of them lands where is a coin flip even for a perfect solver. Measured by a solver",
             "that is right up to identical pieces, on the same evaluation images and shuffles:",
             "", "| M | Kendall tau over pairs (ours) | Kendall tau, list form (paper's) "
             "| Prop. wrong | Prop. any wrong |", "|---|---|---|---|---|"]
    for size in sizes:
        bound = tie_bound(images, size, config.seed + EVAL_SEED_OFFSET)
        lines.append(f"| {size} | {bound['kendall_tau']:.3f} | {bound['kendall_tau_list']:.3f} "
                     f"| {bound['prop_wrong']:.3f} | {bound['prop_any_wrong']:.3f} |")
    return lines + [""]


def write_jigsaw_report(
    out: Path,
    result_rows: list[dict],
    history_rows: list[dict],
    configs: Sequence[JigsawConfig],
    eval_images,
    command: str,
    notes: str,
) -> None:
    """Write the shared report files, the chosen metric PNGs and Fig. 3 into ``out``."""
    sizes = sorted({c.size for c in configs})
    bound = tie_bound_lines(eval_images, configs[0], sizes) if configs else []
    fig3 = plot_constraint_error(history_rows, out / FIG3_NAME)
    extra = [notes, *bound]
    if fig3:
        extra += ["## Fig. 3: Gumbel-Sinkhorn constraint error during training", "",
                  f"![Fig. 3]({FIG3_NAME})", ""]
    extra += ["## Plots", "", *(f"![{key}]({key}.png)" for key in PLOTTED), ""]
    write_report(out, result_rows, METRICS, title="MNIST jigsaw (paper 4.1, Table 4)",
                 command=command, planned=[(c.label, c.size, c.seed) for c in configs],
                 paper=jigsaw_table4(), paper_note=JIGSAW_TABLE4_NOTE, notes="\n".join(extra),
                 size_label=SIZE_LABEL, plots=False)
    summaries = summarise(result_rows, METRICS)
    for metric in METRICS:
        if metric.key in PLOTTED:
            plot_metric(out / f"{metric.key}.png", summaries, metric, jigsaw_table4(),
                        SIZE_LABEL, "MNIST jigsaw", log_x=False)


def read_stored_csv(path: Path) -> list[dict]:
    """Rows of a stored ``runs.csv`` / ``history.csv``: ``method`` as its operator name (old
    spellings such as ``gumbel_sinkhorn`` read as ``sinkhorn``), ``size``, ``seed`` and ``epoch``
    as int, every other non-empty cell as float (empty cells: left out)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            raw = list(csv.DictReader(handle))
    except OSError as error:
        raise InputError(f"cannot read {path}: {error}") from None
    integers = ("size", "seed", "epoch")
    return [{k: current_label(v) if k == "method" else int(v) if k in integers else float(v)
             for k, v in row.items() if v != ""} for row in raw]


def current_label(label: str) -> str:
    """A stored run label (``[model_]operator``) with an old operator spelling replaced."""
    for old, new in ALIASES.items():
        if label == old or label.endswith("_" + old):
            return label[: len(label) - len(old)] + new
    return label


def rebuild(results: Path, data_dir: Path) -> None:
    """Rewrite the report files of the finished sweep in ``results`` from its ``runs.csv`` (or,
    in folders made before it existed, the report's own ``results.csv``), ``history.csv`` and
    the command in ``results.json`` (for the planned runs and protocol)."""
    from experiments.cli_jigsaw import jigsaw_command, plan_sweep, protocol_notes
    from experiments.mnist import load_split

    try:
        command = json.loads((results / "results.json").read_text(encoding="utf-8"))["command"]
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"no sweep command in {results / 'results.json'}: {error}") from None
    params = jigsaw_command.make_context("jigsaw", shlex.split(command)[3:]).params
    base, configs = plan_sweep(*(params[k] for k in (
        "config_path", "epochs", "train_subset", "eval_subset", "sizes", "methods", "models",
        "seeds", "lr")))
    notes = protocol_notes(base) + (
        "\nThis report was rebuilt from the stored runs.csv and history.csv (no checkpoints) by "
        f"`python -m experiments.jigsaw_report --results {results} --data-dir {data_dir}`; "
        "runs made before the list-form Kendall tau existed say \"not measured\" for it.\n")
    runs = results / "runs.csv"
    rows = read_stored_csv(runs if runs.exists() else results / "results.csv")
    planned = [c.label for c in configs]  # methods in the sweep's order, as its report had them
    rows.sort(key=lambda r: (planned.index(r["method"]) if r["method"] in planned
                             else len(planned), r["size"], r["seed"]))
    write_jigsaw_report(results, rows, read_stored_csv(results / "history.csv"), configs,
                        load_split(data_dir, "test").images, command, notes)


@click.command()
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A finished jigsaw sweep folder (runs.csv, history.csv, results.json).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The MNIST folder (the tie bound needs the test images).")
def main(results: Path, data_dir: Path) -> None:
    """Rebuild the report of the jigsaw sweep in RESULTS from its stored CSVs."""
    try:
        rebuild(results, data_dir)
    except InputError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(f"wrote {results / 'report.md'}")


if __name__ == "__main__":
    main()
