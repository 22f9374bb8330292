"""Settings of the five diagnostics: one frozen dataclass per part, loadable from TOML.

The defaults are the full run (``hste bench sinkhorn``); :meth:`DiagnosticsConfig.quick` is the
reduced run of the CLI test (seconds). A TOML file may override any field, one table per part::

    [plateaus]
    max_iters = 200
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from common.errors import InputError
from common.limits import check_number, require_memory

# The range of a setting, applied to each item of a tuple: (low, high, low_open, integer).
Limit = tuple[float | None, float | None, bool, bool]
COUNT: Limit = (1, None, False, True)
POSITIVE: Limit = (0.0, None, True, False)
FINITE: Limit = (None, None, False, False)


@dataclass(frozen=True)
class PatternsConfig:
    """Part 1: every n x n binary matrix through Sinkhorn.

    Attributes:
        sizes: matrix sizes n to enumerate (2^(n*n) matrices each).
        n_iters: Sinkhorn iterations (row + column normalisation each) before judging.
        threshold: a matrix "never converges" when max(Err_r, Err_c) after ``n_iters`` exceeds this.
            Without a positive diagonal some row or column sum stays >= 1/n off, so any threshold
            below 1/n separates; matrices with a positive diagonal converge (at worst like 1/L).
    """

    sizes: tuple[int, ...] = (3, 4)
    n_iters: int = 50
    threshold: float = 0.1

    LIMITS: ClassVar[dict[str, Limit]] = {"sizes": (1, 5, False, True), "n_iters": COUNT,
                                          "threshold": POSITIVE}

    def bytes_needed(self) -> float:
        """Memory of the enumeration: 2^(n*n) float64 n x n matrices and their copies."""
        return max(8.0 * 8 * 2.0 ** (n * n) * n * n for n in self.sizes)


@dataclass(frozen=True)
class PlateausConfig:
    """Part 2: zeros of each non-converging 3x3 pattern replaced by e.

    Attributes:
        epsilons: the values e (0 keeps the structural zeros).
        max_iters: iterations drawn and searched for the plateau's end.
        plateau_error: the plateau ends at the first iteration with error below this.
        stuck_error: error level for the "some e defeats any fixed L" demonstration.
        stuck_lengths: the fixed iteration counts L of that demonstration.
        stuck_log10_eps: (largest, smallest, count) of the log10 e grid searched for it.
    """

    epsilons: tuple[float, ...] = (0.0,) + tuple(10.0**-k for k in range(1, 11))
    max_iters: int = 100
    plateau_error: float = 0.01
    stuck_error: float = 0.1
    stuck_lengths: tuple[int, ...] = (5, 10, 20, 50, 100, 200)
    stuck_log10_eps: tuple[float, float, int] = (-0.5, -150.0, 600)

    LIMITS: ClassVar[dict[str, Limit]] = {
        "epsilons": (0.0, None, False, False), "max_iters": COUNT, "plateau_error": POSITIVE,
        "stuck_error": POSITIVE, "stuck_lengths": COUNT, "stuck_log10_eps": FINITE}
    GRIDS: ClassVar[tuple[str, ...]] = ("stuck_log10_eps",)


@dataclass(frozen=True)
class VariableLengthConfig:
    """Part 3: Sinkhorn run to a tolerance.

    Attributes:
        sizes: matrix sizes N of the random Gaussian log scores.
        matrices: how many random matrices per size (same order as ``sizes``).
        taus: temperatures; the log scores are X / tau with X ~ N(0, 1).
        tol: target max(Err_r, Err_c).
        max_iters: cap; matrices still above ``tol`` there are reported as not converged.
    """

    sizes: tuple[int, ...] = (10, 50, 200)
    matrices: tuple[int, ...] = (100, 30, 6)
    taus: tuple[float, ...] = (1.0, 0.1, 0.01)
    tol: float = 1e-3
    max_iters: int = 5000

    LIMITS: ClassVar[dict[str, Limit]] = {"sizes": COUNT, "matrices": COUNT, "taus": POSITIVE,
                                          "tol": POSITIVE, "max_iters": COUNT}

    def bytes_needed(self) -> float:
        """Memory of the largest batch: float64 N x N log scores, a few copies."""
        return max(8.0 * 8 * m * n * n for n, m in zip(self.sizes, self.matrices, strict=False))


@dataclass(frozen=True)
class GradientConfig:
    """Part 4: gradient size against temperature.

    Attributes:
        ks: softmax sizes K.
        gap: c, the margin of the largest logit over all others.
        log10_tau: (smallest, largest, count) of the log10 tau grid.
        sinkhorn_size: N of the random N x N score matrix for Sinkhorn and HSTE.
        sinkhorn_iters: L, the fixed Sinkhorn iterations differentiated through.
    """

    ks: tuple[int, ...] = (4, 16, 64)
    gap: float = 1.0
    log10_tau: tuple[float, float, int] = (-4.0, 1.0, 101)
    sinkhorn_size: int = 8
    sinkhorn_iters: int = 20

    LIMITS: ClassVar[dict[str, Limit]] = {
        "ks": (2, 10**6, False, True), "gap": FINITE, "log10_tau": FINITE,
        "sinkhorn_size": (1, 1000, False, True), "sinkhorn_iters": COUNT}
    GRIDS: ClassVar[tuple[str, ...]] = ("log10_tau",)


@dataclass(frozen=True)
class LandscapesConfig:
    """Part 5: winners on a triangle of score matrices.

    Attributes:
        sizes: n of the n x n Hungarian panels; the argmax panels use n*n dimensions.
        resolution: grid points per triangle side (points = r (r + 1) / 2).
    """

    sizes: tuple[int, ...] = (4, 7)
    resolution: int = 201

    LIMITS: ClassVar[dict[str, Limit]] = {"sizes": (1, 100, False, True),
                                          "resolution": (2, None, False, True)}

    def bytes_needed(self) -> float:
        """Memory of the largest panel: r (r + 1) / 2 grid points of n^2 float64 scores, a few
        copies."""
        points = self.resolution * (self.resolution + 1) / 2
        return max(8.0 * 8 * points * n**4 for n in self.sizes)


@dataclass(frozen=True)
class DiagnosticsConfig:
    """All five parts' settings."""

    patterns: PatternsConfig = field(default_factory=PatternsConfig)
    plateaus: PlateausConfig = field(default_factory=PlateausConfig)
    variable_length: VariableLengthConfig = field(default_factory=VariableLengthConfig)
    gradients: GradientConfig = field(default_factory=GradientConfig)
    landscapes: LandscapesConfig = field(default_factory=LandscapesConfig)

    @classmethod
    def quick(cls) -> DiagnosticsConfig:
        """A reduced run that takes seconds: for tests and a first look."""
        return cls(
            patterns=PatternsConfig(sizes=(3,), n_iters=40),
            plateaus=PlateausConfig(
                epsilons=(0.0, 1e-1, 1e-2, 1e-3, 1e-4),
                max_iters=40,
                stuck_lengths=(5, 10),
                stuck_log10_eps=(-0.5, -20.0, 80),
            ),
            variable_length=VariableLengthConfig(
                sizes=(10,), matrices=(8,), taus=(1.0, 0.1), max_iters=1000
            ),
            gradients=GradientConfig(ks=(4,), log10_tau=(-3.0, 1.0, 13), sinkhorn_size=4),
            landscapes=LandscapesConfig(sizes=(3,), resolution=21),
        )

    @classmethod
    def from_toml(
        cls, path: str | Path, base: DiagnosticsConfig | None = None
    ) -> DiagnosticsConfig:
        """``base`` (default: the full run) with the fields a TOML file sets, one table per part.

        Raises:
            InputError: missing or unparsable file, unknown table or field.
        """
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise InputError(f"cannot read config {path}: {error}") from None
        config = base or cls()
        parts = {f.name for f in fields(cls)}
        for part, values in data.items():
            if part not in parts or not isinstance(values, dict):
                raise InputError(f"{path}: unknown table [{part}]; expected one of {sorted(parts)}")
            current = getattr(config, part)
            known = {f.name for f in fields(current)}
            unknown = set(values) - known
            if unknown:
                raise InputError(f"{path}: unknown field(s) {sorted(unknown)} in [{part}]")
            checked = {
                k: checked_value(path, part, k, v, getattr(current, k)) for k, v in values.items()
            }
            updated = replace(current, **checked)
            check_limits(updated, f"{path}: [{part}]")
            config = replace(config, **{part: updated})
        return config


def check_limits(part: Any, where: str) -> None:
    """InputError (naming ``where`` and the setting) for a setting of ``part`` outside its
    ``LIMITS`` (every item of a tuple), an empty list, a (first, last, count) grid whose count
    is not an integer >= 1, ``matrices`` and ``sizes`` of different lengths, or a part whose
    arrays cannot fit in memory (``bytes_needed``)."""
    for name, (low, high, low_open, integer) in part.LIMITS.items():
        value = getattr(part, name)
        items = value if isinstance(value, tuple) else (value,)
        if not items:
            raise InputError(f"{where} {name} must not be empty")
        for item in items:
            check_number(f"{where} {name}", item, low, high, low_open=low_open, integer=integer)
    for name in getattr(part, "GRIDS", ()):
        check_number(f"{where} {name} count", getattr(part, name)[2], 1, integer=True)
    if isinstance(part, VariableLengthConfig) and len(part.sizes) != len(part.matrices):
        raise InputError(f"{where} sizes and matrices must have the same length")
    if hasattr(part, "bytes_needed"):
        require_memory(f"{where}", part.bytes_needed())


def checked_value(path: str | Path, part: str, name: str, value: object, default: object) -> object:
    """``value`` from TOML, checked against the type of the field's default (lists -> tuples).

    Raises:
        InputError: a value of the wrong kind, e.g. a string where a number belongs.
    """
    numbers = (int, float)
    if isinstance(default, tuple):
        ok = isinstance(value, list) and all(
            isinstance(item, numbers) and not isinstance(item, bool) for item in value
        )
        value = tuple(value) if ok else value
    elif isinstance(default, float):
        ok = isinstance(value, numbers) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        expected = "a list of numbers" if isinstance(default, tuple) else type(default).__name__
        raise InputError(f"{path}: [{part}] {name} must be {expected}; got {value!r}")
    return value
