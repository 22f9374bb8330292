"""The five parts behind one interface: measure (numbers, JSON-ready) and draw (PNGs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from experiments.sinkhorn_diagnostics import (
    landscapes,
    patterns,
    plateaus,
    vanishing_gradient,
    variable_length,
)
from experiments.sinkhorn_diagnostics.config import DiagnosticsConfig

Progress = Callable[[str], None]


def _variable_length(config: DiagnosticsConfig, seed: int, progress: Progress) -> dict:
    return variable_length.measure(
        config.variable_length, config.plateaus, config.patterns, seed, progress
    )


MEASURES: dict[str, Callable[[DiagnosticsConfig, int, Progress], dict]] = {
    "patterns": lambda config, seed, progress: patterns.measure(config.patterns),
    "plateaus": lambda config, seed, progress: plateaus.measure(config.plateaus, config.patterns),
    "variable-length": _variable_length,
    "gradients": lambda config, seed, progress: vanishing_gradient.measure(config.gradients, seed),
    "landscapes": lambda config, seed, progress: landscapes.measure(config.landscapes, seed),
}
DRAWS: dict[str, Callable[[dict, Path], list[Path]]] = {
    "patterns": patterns.draw,
    "plateaus": plateaus.draw,
    "variable-length": variable_length.draw,
    "gradients": vanishing_gradient.draw,
    "landscapes": landscapes.draw,
}
PART_NAMES: tuple[str, ...] = tuple(MEASURES)


@dataclass
class Run:
    """What a run measured: per part its numbers, its figures and its wall time in seconds."""

    results: dict[str, dict] = field(default_factory=dict)
    figures: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_parts(
    names: tuple[str, ...], config: DiagnosticsConfig, seed: int, out: Path, show_progress: bool
) -> Run:
    """Measure and draw the named parts in order, writing PNGs under ``out``.

    Each part gets its own seed, ``seed + 1000 * position in PART_NAMES``, so a part gives the
    same numbers whether it runs alone or with the others.
    """
    run = Run()
    bar = tqdm(names, desc="sinkhorn diagnostics", unit="part", disable=not show_progress)
    for name in bar:
        bar.set_postfix_str(name)
        start = time.perf_counter()
        part_seed = seed + 1000 * PART_NAMES.index(name)
        result = MEASURES[name](config, part_seed, lambda label: bar.set_postfix_str(label))
        run.results[name] = result
        run.figures[name] = [path.name for path in DRAWS[name](result, out)]
        run.seconds[name] = round(time.perf_counter() - start, 2)
    return run
