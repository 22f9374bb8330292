"""``hste data ...`` commands: fetching data sets."""

from __future__ import annotations

from pathlib import Path

import click

from experiments.mnist import fetch_mnist


@click.command("fetch-mnist")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the four MNIST IDX files (created if missing).",
)
@click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True,
              help="Network timeout per request, seconds.")
def fetch_mnist_command(data_dir: Path, timeout_s: float) -> None:
    """Download the official MNIST files into DATA_DIR, MD5-checked, written atomically.

    Files already there (and valid IDX) are kept. Without internet access the command fails
    with one line saying where to put the files by hand.

    \b
    Example:
        hste data fetch-mnist --data-dir data/mnist
    """
    for path in fetch_mnist(data_dir, timeout_s=timeout_s):
        click.echo(str(path))
