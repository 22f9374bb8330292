"""The paper's own numbers, to print beside ours (never used as results of this code).

Read from the CSVs in ``experiments/paper_data/``, copied unchanged from the transcription of the
paper's tables in ``../shared/paper/`` (its README holds the notes on the paper's metrics):
``table5_sorting.csv`` (Table 5), ``table4_jigsaw.csv`` (Table 4), ``appendix_d_plateaus.csv``
(App. D). Each table maps method -> size -> metric key -> value, with the metric keys of the
benchmark that reports it. The paper's sorting Kendall tau goes under our list-form tau
(``kendall_tau_list``) only: the paper's reference code computes that one (see
:mod:`tracker.perm.metrics`), and Table 5's tau column is what the list form predicts from its
Prop. wrong column. Its jigsaw Kendall tau goes beside both of ours (``kendall_tau_list`` and
``kendall_tau``, over misordered pairs): there identical pieces (blank corners) tie and the
Hungarian breaks ties by input order, which the list form rewards, so which tau Table 4 prints
cannot be told from the table alone.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from common.errors import InputError
from experiments.report import PaperValues

DATA = Path(__file__).with_name("paper_data")

# The paper's metric names -> our sorting keys (experiments.sorting.evaluate).
SORTING_KEYS = {"kendall_tau": "kendall_tau_list", "prop_wrong": "prop_wrong",
                "prop_any_wrong": "prop_any_wrong", "l1_x100": "l1_x100", "l2_x1000": "l2_x1000"}
# The paper's jigsaw metric names -> our keys without the split prefix (experiments.jigsaw);
# the training constraint error is over the training permutations, the eval one noise-free.
JIGSAW_KEYS = {"kendall_tau": ("kendall_tau_list", "kendall_tau"), "prop_wrong": ("prop_wrong",),
               "prop_any_wrong": ("prop_any_wrong",), "l1": ("l1",), "l2": ("l2",)}
JIGSAW_CONSTRAINT_KEYS = {"train": "step_constraint_error_mean",
                          "eval": "eval_constraint_error_mean"}
JIGSAW_METHODS = {"hste": "hste", "gumbel-sinkhorn": "sinkhorn"}

SORTING_TABLE5_NOTE = (
    "Table 5 of the paper (one run per entry), from experiments/paper_data/table5_sorting.csv. "
    "Its Kendall tau is the list-form one of its reference code, printed beside our "
    "kendall_tau_list only."
)
JIGSAW_TABLE4_NOTE = (
    "Table 4 of the paper (one run per entry), from experiments/paper_data/table4_jigsaw.csv. "
    "Its Kendall tau is printed beside both of ours (which one it is cannot be told from the "
    "table: see experiments/paper_values.py); its constraint error beside our mean over the "
    "training permutations of the last epoch (train) and Sinkhorn's on the noise-free scores "
    "(eval)."
)


def read_rows(name: str) -> list[dict[str, str]]:
    """The rows of ``paper_data/<name>`` as dicts; InputError when it is missing or empty."""
    path = DATA / name
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise InputError(f"cannot read the paper's values {path}: {error}") from None
    if not rows:
        raise InputError(f"no rows in the paper's values {path}")
    return rows


def _size_columns(row: dict[str, str], prefix: str) -> dict[int, float]:
    """``{size: value}`` from columns named ``<prefix><size>`` (``N400``, ``M3``)."""
    return {int(k[len(prefix):]): float(v) for k, v in row.items()
            if k.startswith(prefix) and k[len(prefix):].isdigit()}


def _add(table: dict, method: str, sizes: dict[int, float], key: str) -> None:
    for size, value in sizes.items():
        table.setdefault(method, {}).setdefault(size, {})[key] = value


@functools.cache
def sorting_table5() -> PaperValues:
    """Table 5: method -> N -> our sorting metric key -> the paper's value."""
    table: dict = {}
    for row in read_rows("table5_sorting.csv"):
        _add(table, row["method"], _size_columns(row, "N"), SORTING_KEYS[row["metric"]])
    return table


@functools.cache
def jigsaw_table4() -> PaperValues:
    """Table 4: our method label -> M -> ``<split>_<key>`` (``step_constraint_error_mean`` for
    the training constraint error; the tau under both of our tau keys) -> the paper's value."""
    table: dict = {}
    for row in read_rows("table4_jigsaw.csv"):
        split, metric = row["split"], row["metric"]
        keys = ([JIGSAW_CONSTRAINT_KEYS[split]] if metric == "constraint_error"
                else [f"{split}_{key}" for key in JIGSAW_KEYS[metric]])
        for key in keys:
            _add(table, JIGSAW_METHODS[row["method"]], _size_columns(row, "M"), key)
    return table


@functools.cache
def plateau_k() -> dict[float, int]:
    """App. D: epsilon -> the paper's printed plateau change point k = -log2(eps) + 2 (in
    normalisations, a row or a column step)."""
    return {float(row["eps"]): int(row["k_predicted_paper"])
            for row in read_rows("appendix_d_plateaus.csv")}
