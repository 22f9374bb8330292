"""The ``hste`` command line: a click group whose subcommands load lazily.

Each command lives in the module that does its job; this file only maps names to them, so
``hste --help`` stays fast (no torch import) and adding a command is one line in a table below.
Bad input raised as :class:`common.errors.InputError` anywhere below becomes one line on stderr
and exit status 2; so does a bad option or argument (click's usage block and help hint are
folded into that one line). SIGTERM ends a command as Ctrl-C does (temporary files removed, no
partial output), with exit status 143.
"""

from __future__ import annotations

import importlib

import click
from click.exceptions import NoArgsIsHelpError

from common.errors import InputError
from common.signals import TERMINATED_EXIT_STATUS, Terminated, terminate_like_interrupt


class InputFailure(click.ClickException):
    """A user-fixable error: printed as one ``Error: ...`` line, exit status 2."""

    exit_code = 2


def one_line_usage_error(error: click.UsageError) -> click.UsageError:
    """``error`` as one ``Error: ...`` line naming the command and its ``--help`` (exit status 2);
    a bare group's help page (no arguments given) is left as it is."""
    if error.ctx is None or isinstance(error, NoArgsIsHelpError):
        return error
    command = error.ctx.command_path
    return click.UsageError(f"{command}: {error.format_message()} (see '{command} --help')")


class LazyGroup(click.Group):
    """A click group whose subcommands are ``"module:attribute"`` strings imported on first use.

    Its help page lists them with the one-line summaries of :data:`COMMAND_HELP` (a test checks
    that every lazy command has one), so ``hste --help`` imports no command module.
    """

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            if name in self.lazy_commands:
                rows.append((name, COMMAND_HELP[self.lazy_commands[name]]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def make_context(self, *args, **kwargs) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise one_line_usage_error(error) from None

    def invoke(self, ctx: click.Context):
        if ctx.parent is None:  # the top-level group: SIGTERM ends the command as Ctrl-C does
            try:
                with terminate_like_interrupt():
                    return self._invoke(ctx)
            except Terminated:
                click.echo("Terminated (SIGTERM); unfinished outputs removed.", err=True)
                ctx.exit(TERMINATED_EXIT_STATUS)
        return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as error:  # one line, even if a library's message spans several
            raise InputFailure((str(error).splitlines() or [""])[0]) from None
        except click.UsageError as error:
            raise one_line_usage_error(error) from None


# name -> "module:click_command". One line per command; keep sorted.
COMMAND_HELP: dict[str, str] = {
    "experiments.cli_data:fetch_mnist_command": "Fetch the MNIST files and check them.",
    "experiments.cli_jigsaw:jigsaw_command": "The paper's MNIST jigsaw benchmark.",
    "experiments.cli_sorting:sorting_command": "The paper's number-sorting benchmark.",
    "experiments.sinkhorn_diagnostics.cli:sinkhorn_command": "Sinkhorn convergence diagnostics.",
    "sim.cli:simulate_command": "Simulate a RADAR or point-cloud scene (.npz; CSV exports).",
    "tracker.commands.animate:animate_command": "Animate a scene with trackers' tracks (GIF).",
    "tracker.commands.demo:demo_command": "Simulate, train, track, evaluate: the whole pipeline.",
    "tracker.commands.evaluate:evaluate_command": "Score tracks against a scene or a truth CSV.",
    "tracker.commands.plot:bench": "Plot benchmark results.",
    "tracker.commands.plot:metrics": "Plot evaluation metrics.",
    "tracker.commands.plot:scenario": "Plot a scene.",
    "tracker.commands.plot:tracks": "Plot tracks over a scene.",
    "tracker.commands.plot:training": "Plot a training log.",
    "tracker.commands.track:track_command": "Track a scene .npz or a detections CSV.",
    "tracker.commands.train:train_command": "Train the association network.",
}
"""One-line summary of each lazy command for the groups' help pages (no import needed)."""

BENCH_COMMANDS: dict[str, str] = {
    "jigsaw": "experiments.cli_jigsaw:jigsaw_command",
    "sinkhorn": "experiments.sinkhorn_diagnostics.cli:sinkhorn_command",
    "sorting": "experiments.cli_sorting:sorting_command",
}
DATA_COMMANDS: dict[str, str] = {
    "fetch-mnist": "experiments.cli_data:fetch_mnist_command",
}
PLOT_COMMANDS: dict[str, str] = {
    "bench": "tracker.commands.plot:bench",
    "metrics": "tracker.commands.plot:metrics",
    "scenario": "tracker.commands.plot:scenario",
    "tracks": "tracker.commands.plot:tracks",
    "training": "tracker.commands.plot:training",
}
TOP_COMMANDS: dict[str, str] = {
    "animate": "tracker.commands.animate:animate_command",
    "demo": "tracker.commands.demo:demo_command",
    "evaluate": "tracker.commands.evaluate:evaluate_command",
    "simulate": "sim.cli:simulate_command",
    "track": "tracker.commands.track:track_command",
    "train": "tracker.commands.train:train_command",
}


@click.group(cls=LazyGroup, lazy_commands=TOP_COMMANDS)
@click.version_option(package_name="hste-track")
def main() -> None:
    """hste-track: multiple-object tracking with learned HSTE data association.

    \b
    Example, the whole pipeline on a small scene:
        hste demo
    """


@main.group(cls=LazyGroup, lazy_commands=BENCH_COMMANDS)
def bench() -> None:
    """Run the paper's benchmarks (sorting, jigsaw, Sinkhorn diagnostics).

    \b
    Example:
        hste bench sinkhorn --out docs/results/sinkhorn
    """


@main.group(cls=LazyGroup, lazy_commands=DATA_COMMANDS)
def data() -> None:
    """Fetch and check data sets (MNIST).

    \b
    Example:
        hste data fetch-mnist --data-dir data/mnist
    """


@main.group(cls=LazyGroup, lazy_commands=PLOT_COMMANDS)
def plot() -> None:
    """Draw static PNGs: scenarios, tracks, metrics, training logs, benchmark results.

    \b
    Example:
        hste plot scenario scene.npz -o scene.png
    """


if __name__ == "__main__":  # python -m tracker.cli ... (also what torchrun runs)
    main()
