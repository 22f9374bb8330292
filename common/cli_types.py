"""click parameter types shared by every ``hste`` command (simulation's and the tracker's).

click's own ``int`` and ``FloatRange`` let through values that fail deep inside numpy or
matplotlib with a traceback: a negative seed (numpy's SeedSequence refuses it), one past int64
(the scenario file stores the seed as int64), and NaN or infinity (a range check compares
False with NaN). These types refuse them at the command line, as one usage-error line.
"""

from __future__ import annotations

import math

import click

SEED_MAX = 2**63 - 1
"""The largest seed: scenario files store the seed as int64."""

SEED = click.IntRange(0, SEED_MAX)
"""A ``--seed`` value: 0 to ``SEED_MAX``."""


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses NaN and +-infinity."""

    name = "finite float range"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class JoinedChoice(click.ParamType):
    """One of ``choices``, or several joined by ``+`` (``"a+b"``: a mixture); each part must be
    a choice, no part twice."""

    name = "choice[+choice...]"

    def __init__(self, choices) -> None:
        self.choices = tuple(choices)

    def convert(self, value, param, ctx):
        parts = str(value).split("+")
        unknown = [part for part in parts if part not in self.choices]
        if unknown:
            self.fail(f"{unknown[0]!r} is not one of {', '.join(self.choices)} (join several "
                      "with +)", param, ctx)
        if len(set(parts)) < len(parts):
            self.fail(f"{value!r} names a choice twice", param, ctx)
        return "+".join(parts)
