"""The run's JSON (every number) and its markdown summary (the numbers a reader needs).

The summary can be rebuilt from a run's JSON alone (no measuring), e.g. after a change to how it
is written:

    python -m experiments.sinkhorn_diagnostics.report docs/results/sinkhorn
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np

from common.atomic import write_text_atomic
from common.errors import InputError
from experiments.paper_values import plateau_k
from experiments.sinkhorn_diagnostics.config import DiagnosticsConfig
from experiments.sinkhorn_diagnostics.parts import Run

JSON_NAME = "sinkhorn_diagnostics.json"
SUMMARY_NAME = "summary.md"


def write_report(run: Run, config: DiagnosticsConfig, seed: int, command: str, out: Path) -> None:
    """Write ``sinkhorn_diagnostics.json`` and ``summary.md`` under ``out`` (atomically)."""
    document = {
        "command": command,
        "seed": seed,
        "config": asdict(config),
        "seconds": run.seconds,
        "figures": run.figures,
        "results": run.results,
    }
    write_text_atomic(out / JSON_NAME, compact_json(document) + "\n")
    write_text_atomic(out / SUMMARY_NAME, summary(run, command))


def compact_json(document: dict) -> str:
    """Indented JSON with every list of plain numbers on one line."""
    text = json.dumps(document, indent=1)
    return re.sub(
        r"\[\s*([-+.\deE,\s]*|(?:null|[-+.\deE]+)(?:,\s*(?:null|[-+.\deE]+))*)\s*\]",
        lambda match: "[" + re.sub(r"\s+", " ", match.group(1)).strip() + "]",
        text,
    )


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float | None, digits: int = 3) -> str:
    """Compact formatting; '-' for None."""
    return "-" if value is None else f"{value:.{digits}g}"


def summary(run: Run, command: str) -> str:
    """The markdown summary of the parts that ran."""
    sections = {
        "patterns": patterns_section,
        "plateaus": plateaus_section,
        "variable-length": variable_length_section,
        "gradients": gradients_section,
        "landscapes": landscapes_section,
    }
    text = [
        "# Sinkhorn diagnostics (paper Fig. 1, 2, 4; Appendices A, B, D)",
        "",
        f"Made by `{command}` (wall time per part in seconds: "
        + ", ".join(f"{name} {seconds}" for name, seconds in run.seconds.items())
        + "; shared 2-core machine, times are noisy). Every number below is in "
        f"`{JSON_NAME}` beside this file.",
    ]
    for name, result in run.results.items():
        text += ["", sections[name](result)]
        text += ["", "Figures: " + ", ".join(f"`{f}`" for f in run.figures[name])]
    return "\n".join(text) + "\n"


def same_set(size_result: dict) -> str:
    """Whether the never-converging set equals the no-positive-diagonal set."""
    agree = size_result["never_converging_equals_no_positive_diagonal"]
    return "same set" if agree else "DIFFERENT set"


def patterns_section(result: dict) -> str:
    """Part 1: counts and groups."""
    rows = [
        [
            f"{r['n']}x{r['n']}",
            r["matrices"],
            r["zero_line"],
            r["never_converging"],
            f"{r['no_positive_diagonal']} ({same_set(r)})",
            r["support_without_total_support"],
            r["total_support"],
            r["groups"]["rows-cols"]["count"],
            r["groups"]["square"]["count"],
        ]
        for r in result.values()
    ]
    any_result = next(iter(result.values()))
    header = [
        "size",
        "matrices",
        "zero row/col (NaN)",
        "never converge",
        "no positive diagonal",
        "support, not total",
        "total support",
        "groups: row/col perms + transpose",
        "groups: square (rotations, reflections)",
    ]
    levels = "; ".join(
        f"{r['n']}x{r['n']}: never-converging error >= {number(r['error_never_converging_min'])}, "
        f"converging error <= {number(r['error_converging_max'])}"
        for r in result.values()
    )
    return "\n".join(
        [
            "## 1. Binary matrices on which Sinkhorn never converges",
            "",
            table(header, rows),
            "",
            "Every binary matrix A went through `tracker.perm.sinkhorn(log A)` (zeros are `-inf`). "
            "Matrices with an all-zero row or column have no doubly-stochastic scaling at all; "
            "they are found before the run, counted apart (column 'zero row/col'), and confirmed "
            "to give NaN after one iteration "
            f"({', '.join(str(r['zero_line_nan_after_one_iteration']) for r in result.values())} "
            "NaN results). A matrix 'never converges' when max(Err_r, Err_c) after "
            f"{any_result['sinkhorn_iterations']} iterations is above {any_result['threshold']}; "
            f"the measured levels are far apart ({levels}). The never-converging set equals the "
            "set of matrices without a positive diagonal (no permutation inside the support, "
            "counted by enumerating all n! permutations), as Sinkhorn's theory says. Matrices with "
            "support but not total support converge, only like 1/L.",
        ]
    )


def printed_k(epsilon: float, measured: list[int | None]) -> str:
    """The paper's printed plateau k (App. D) for ``epsilon``, marked "(in)" when it lies within
    the range of the measured k of the patterns and "(out)" when not; "-" if App. D has none."""
    paper = next((k for e, k in plateau_k().items()
                  if np.isclose(e, epsilon, rtol=1e-9, atol=0.0)), None)
    if paper is None:
        return "-"
    found = [k for k in measured if k is not None]
    if not found:
        return str(paper)
    return f"{paper} ({'in' if min(found) <= paper <= max(found) else 'out'})"


def plateaus_section(result: dict) -> str:
    """Part 2: plateau lengths beside the formula and the paper's printed k, fits, stuck e."""
    patterns = result["patterns"]
    rows = []
    for index, epsilon in enumerate(result["epsilons"]):
        formula = result["formula_normalisations"][index]
        measured = [p["plateau_normalisations"][index] for p in patterns]
        rows.append(
            [
                "0" if epsilon == 0 else f"{epsilon:.0e}",
                "-" if epsilon == 0 else f"{-np.log2(epsilon):.2f}",
                number(formula, 4),
                printed_k(epsilon, measured) if epsilon > 0 else "-",
                *["never" if k is None else k for k in measured],
            ]
        )
    header = [
        "e",
        "-log2 e",
        "k = -log2 e + 2",
        "paper's k (App. D, printed)",
        *[f"measured k, pattern {i + 1}" for i in range(len(patterns))],
    ]
    fits = "; ".join(
        f"pattern {i + 1} ({p['members']} matrices, {p['matrix']}): k = {p['fit']['slope']:.3f} "
        f"(-log2 e) {p['fit']['intercept']:+.2f}, max residual {p['fit']['max_residual']:.2f}, "
        f"spread of plateau lengths inside its symmetry group {p['plateau_spread_within_group']}"
        for i, p in enumerate(patterns)
    )
    stuck_rows = [
        [length, *[number(p["stuck_epsilon"][j], 3) for p in patterns]]
        for j, length in enumerate(result["stuck_lengths"])
    ]
    stuck_fits = "; ".join(
        f"pattern {i + 1}: -log2 e* = {p['stuck_fit']['slope']:.3f} L "
        f"{p['stuck_fit']['intercept']:+.2f}"
        for i, p in enumerate(patterns)
    )
    return "\n".join(
        [
            "## 2. Plateaus: zeros replaced by e",
            "",
            "Plateau length = first iteration L* with max(Err_r, Err_c) < "
            f"{result['plateau_error']}, given in normalisations k = 2 L* (read after whole "
            "iterations, so even numbers only).",
            "",
            table(header, rows),
            "",
            "The paper's printed k (experiments/paper_data/appendix_d_plateaus.csv) is marked "
            "\"(in)\" when it lies within the range of the measured k of the patterns, \"(out)\" "
            "when not.",
            "",
            f"Least-squares fits over e > 0: {fits}. The formula's slope (1 normalisation per "
            "halving of e) holds; the offset is larger than 2 because the plateau is counted here "
            f"until the error is below {result['plateau_error']}, which takes a few more "
            "iterations of linear convergence after the plateau.",
            "",
            f"Any fixed L is defeated: the largest e (log grid) whose error after L iterations is "
            f"still above {result['stuck_error']}:",
            "",
            table(["L", *[f"e*, pattern {i + 1}" for i in range(len(patterns))]], stuck_rows),
            "",
            f"Fits: {stuck_fits} (2 per iteration = 1 per normalisation, as the formula says).",
        ]
    )


def variable_length_section(result: dict) -> str:
    """Part 3: iterations to tolerance."""
    header = ["N", "tau", "matrices", "min", "median", "90%", "max", "not converged"]
    rows = [
        [
            c["n"],
            f"{c['tau']:g}",
            c["matrices"],
            number(c["min"], 5),
            number(c["median"], 5),
            number(c["p90"], 5),
            number(c["max"], 5),
            c["not_converged"],
        ]
        for c in result["gaussian"]
    ]
    plateau_rows = [
        [
            f"{r['epsilon']:.0e}",
            r["matrices"],
            number(r["min"], 5),
            number(r["median"], 5),
            number(r["max"], 5),
            r["not_converged"],
        ]
        for r in result["plateau"]
    ]
    return "\n".join(
        [
            "## 3. Variable-length Sinkhorn: iterations until max(Err_r, Err_c) < "
            f"{result['tol']:g}",
            "",
            f"(a) log scores X / tau, X ~ N(0, 1), N x N (float64; cap {result['max_iters']} "
            "iterations; statistics over the matrices that converged):",
            "",
            table(header, rows),
            "",
            "(b) the 3x3 plateau matrices (all never-converging patterns, zeros -> e):",
            "",
            table(["e", "matrices", "min", "median", "max", "not converged"], plateau_rows),
            "",
            variable_length_reading(result),
        ]
    )


def variable_length_reading(result: dict) -> str:
    """One sentence on the spread of the cost, computed from the measurements."""
    slowest = max(result["gaussian"], key=lambda c: c["median"] or 0)
    fastest = min(result["gaussian"], key=lambda c: c["median"] or np.inf)
    capped = sum(c["not_converged"] for c in result["gaussian"])
    epsilons = np.array([r["epsilon"] for r in result["plateau"]])
    medians = np.array([r["median"] for r in result["plateau"]], dtype=float)
    per_decade = np.polyfit(-np.log10(epsilons), medians, 1)[0] if len(epsilons) > 1 else np.nan
    return (
        f"Reading: the median cost ranges from {number(fastest['median'], 4)} iterations "
        f"(N = {fastest['n']}, tau = {fastest['tau']:g}) to {number(slowest['median'], 4)} "
        f"(N = {slowest['n']}, tau = {slowest['tau']:g}); matrices that did not reach the "
        f"tolerance within {result['max_iters']} iterations: {capped}. The plateau matrices need "
        f"{per_decade:.2f} more iterations per decade of e (least-squares slope of the medians); "
        "a fixed L either wastes iterations on easy inputs or stops early on hard ones."
    )


def gradients_section(result: dict) -> str:
    """Part 4: underflow temperatures."""
    gap = result["gap"]
    rows = [
        [
            e["k"],
            number(e["underflow_tau_float32"]),
            "-"
            if e["underflow_tau_float32"] is None
            else f"c / {gap / e['underflow_tau_float32']:.1f}",
            number(e["underflow_tau_float64"]),
            "-"
            if e["underflow_tau_float64"] is None
            else f"c / {gap / e['underflow_tau_float64']:.1f}",
        ]
        for e in result["softmax"]
    ]
    ratios = [
        gap / e["underflow_tau_float32"] for e in result["softmax"] if e["underflow_tau_float32"]
    ]
    spread = sorted(
        {f"{r:.1f}" for r in (min(ratios, default=0), max(ratios, default=0))}, key=float
    )
    float32_ratio = "..c/".join(spread) if ratios else "- (never on the grid)"
    permutation = result["permutation"]
    f32 = permutation["float32"]["underflow_tau_sinkhorn"]
    f64 = permutation["float64"]["underflow_tau_sinkhorn"]
    n = result["sinkhorn_size"]
    taus = result["taus"]
    return "\n".join(
        [
            "## 4. Vanishing gradients",
            "",
            f"Softmax, logits (c, 0, ..., 0) with c = {gap:g}; the largest tau (grid "
            f"{number(taus[0])}..{number(taus[-1])}, {len(taus)} log-spaced points, each "
            f"{taus[1] / taus[0]:.3f} times the previous) at which autograd's "
            "d sigma_m / d x_m is exactly 0:",
            "",
            table(
                ["K", "float32 tau", "float32 as c/tau", "float64 tau", "float64 as c/tau"], rows
            ),
            "",
            "Autograd's softmax derivative sigma_m (1 - sigma_m) / tau is exactly 0 as soon as "
            "sigma_m rounds to 1, i.e. (K-1) exp(-c/tau) below the dtype's half-ulp of 1, long "
            "before exp(-c/tau) itself underflows; the paper's (K-1)/tau exp(-c/tau) matches the "
            "measurement for small tau until then. So the float32 derivative is already exactly 0 "
            f"at tau = c/{float32_ratio}, far above the paper's tau ~ c/1000.",
            "",
            f"Sinkhorn (L = {result['sinkhorn_iters']}) on a {n}x{n} random N(0,1) matrix: ||J v|| "
            f"is exactly 0 in float32 for tau <= {number(f32)}; in float64 "
            + (
                "it stays above 0 on the whole grid."
                if f64 is None
                else f"for tau <= {number(f64)}."
            )
            + " HSTE: tau * ||J v|| lies in "
            f"[{permutation['float32']['hste_times_tau_min']:.6f}, "
            f"{permutation['float32']['hste_times_tau_max']:.6f}] "
            "(float32) on the whole grid: ||J v|| = ||v|| / tau, it never vanishes.",
        ]
    )


def landscapes_section(result: dict) -> str:
    """Part 5: distinct outcomes per panel."""
    rows = [
        [p["kind"], p["distinct"], f"{p['points_per_outcome'][0] / result['points']:.2f}"]
        for p in result["panels"]
    ]
    return "\n".join(
        [
            "## 5. Assignment landscapes",
            "",
            f"{result['points']} barycentric grid points ({result['resolution']} per side), "
            "X = a A + b B + c C with A, B, C ~ |N(0,1)|; distinct winners:",
            "",
            table(
                ["panel", "distinct outcomes", "share of points won by the largest region"], rows
            ),
            "",
            "The same numbers read as an n x n assignment (Hungarian) or as one n*n vector "
            "(argmax) give different partitions of the triangle; each region is one constant "
            "output, so any loss of the hard output is piecewise constant in the scores (zero "
            "gradient almost everywhere), which is what a straight-through backward works around.",
        ]
    )


def rewrite_summary(out: Path) -> None:
    """Rewrite ``out/summary.md`` from ``out/sinkhorn_diagnostics.json`` (nothing is measured)."""
    try:
        document = json.loads((out / JSON_NAME).read_text(encoding="utf-8"))
        run = Run(document["results"], document["figures"], document["seconds"])
        command = document["command"]
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"no diagnostics run in {out / JSON_NAME}: {error}") from None
    write_text_atomic(out / SUMMARY_NAME, summary(run, command))


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def main(out: Path) -> None:
    """Rebuild OUT/summary.md from OUT/sinkhorn_diagnostics.json."""
    try:
        rewrite_summary(out)
    except InputError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(f"wrote {out / SUMMARY_NAME}")


if __name__ == "__main__":
    main()
