"""``hste bench sorting``: the number-sorting benchmark (paper Table 5) as a resumable sweep."""

from __future__ import annotations

import shlex

import click

from common.errors import InputError
from experiments.sorting import METHODS, PAPER_METHODS, PAPER_SIZES, SortingConfig

DEFAULTS = SortingConfig()


def _int_list(text: str, name: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--{name} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise InputError(f"--{name} needs positive integers, got {text!r}")
    return values


def _method_list(text: str) -> list[str]:
    methods = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InputError(f"unknown method(s) {unknown or text!r}; choose from {', '.join(METHODS)}")
    return methods


@click.command("sorting")
@click.option("--sizes", default=",".join(map(str, PAPER_SIZES)), show_default=True,
              help="Comma-separated N values.")
@click.option("--methods", default=",".join(PAPER_METHODS), show_default=True,
              help=f"Comma-separated methods, from: {', '.join(METHODS)}.")
@click.option("--seeds", type=int, default=3, show_default=True, help="Seeds per (method, N).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="First seed; the runs use seed, seed+1, ... (data, weights, noise).")
@click.option("--epochs", type=int, help=f"Training epochs (one step each) [{DEFAULTS.epochs}].")
@click.option("--lr", type=float, help=f"Adam learning rate [{DEFAULTS.lr}].")
@click.option("--batch-size", "train_sequences", type=int,
              help=f"Training sequences, one batch [{DEFAULTS.train_sequences}].")
@click.option("--test-sequences", type=int, help=f"Test sequences [{DEFAULTS.test_sequences}].")
@click.option("--samples", type=int, help=f"Gumbel samples per sequence [{DEFAULTS.samples}].")
@click.option("--noise", type=float, help=f"Gumbel noise scale [{DEFAULTS.noise}].")
@click.option("--tau", type=float, help=f"Temperature [{DEFAULTS.tau}].")
@click.option("--sinkhorn-iters", type=int,
              help=f"Sinkhorn iterations L [{DEFAULTS.sinkhorn_iters}].")
@click.option("--hidden", type=int, help=f"Hidden width of g1 [{DEFAULTS.hidden}].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML file of settings (keys as the options above, with underscores); "
                   "options given on the command line win.")
@click.option("--jobs", type=int, default=1, show_default=True,
              help="Runs in parallel (processes, one torch thread each).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/sorting",
              show_default=True, help="Output folder (per-run files in runs/, report, plots).")
@click.option("--report-only", is_flag=True,
              help="Rebuild the report from the finished runs in --out; train nothing.")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Draw one PNG per metric at the end.")
def sorting_command(sizes, methods, seeds, seed, config_path, jobs, out_dir, report_only, plots,
                    **settings) -> None:
    """Learn to sort N numbers with Sinkhorn, Gumbel-Sinkhorn, HSTE and HSTE + Gumbel.

    Trains one model per (method, N, seed), evaluates it with the exact Hungarian on 10 fresh
    sequences and writes results.csv, results.json, report.md and one PNG per metric into --out,
    beside the paper's Table 5. Each finished run is saved at once in --out/runs; running the
    same command again skips finished runs, so a killed sweep resumes where it stopped.

    \b
    Example, a quick check, then the paper's full sweep on two processes:
        hste bench sorting --sizes 5,10 --epochs 50 --seeds 1 --out /tmp/sorting
        hste bench sorting --jobs 2 --out docs/results/sorting
    """
    from experiments.sorting_report import record_invocation, utc_now, write_sorting_report
    from experiments.sorting_sweep import load_finished, plan_sweep, run_sweep

    if seeds < 1 or jobs < 1:
        raise InputError("--seeds and --jobs must be >= 1")
    overrides = {k: v for k, v in settings.items() if v is not None}
    base = (SortingConfig.from_toml(config_path, **overrides) if config_path
            else SortingConfig(**overrides))
    configs = plan_sweep(base, _method_list(methods), _int_list(sizes, "sizes"),
                         range(seed, seed + seeds))
    planned = [(c.method, c.n, c.seed) for c in configs]
    command = _command_line(sizes, methods, seeds, seed, config_path, jobs, out_dir, overrides)

    def report(rows, log, plots):
        return write_sorting_report(out_dir, rows, planned, base, command, log, plots=plots)

    started = utc_now()
    if report_only:
        rows = [row for c in configs if (row := load_finished(out_dir, c)) is not None]
        log = record_invocation(out_dir, started, 0.0, 0, jobs)
    else:
        def on_result(rows, new_runs, wall):
            report(rows, record_invocation(out_dir, started, wall, new_runs, jobs), plots=False)

        rows, wall, new_runs = run_sweep(configs, out_dir, jobs=jobs, on_result=on_result)
        log = record_invocation(out_dir, started, wall, new_runs, jobs)
    paths = report(rows, log, plots=plots)
    click.echo(f"{len(rows)} of {len(configs)} runs; report: {paths['md']}")


def _command_line(sizes, methods, seeds, seed, config_path, jobs, out_dir, overrides) -> str:
    """The effective command, every sweep setting spelled out, for the report."""
    words = ["hste", "bench", "sorting", "--sizes", sizes, "--methods", methods,
             "--seeds", str(seeds), "--seed", str(seed)]
    if config_path:
        words += ["--config", str(config_path)]
    for name, value in overrides.items():
        option = "--batch-size" if name == "train_sequences" else "--" + name.replace("_", "-")
        words += [option, str(value)]
    words += ["--jobs", str(jobs), "--out", str(out_dir)]
    return shlex.join(words)
