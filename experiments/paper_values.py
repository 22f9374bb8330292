"""The paper's own numbers, to print beside ours (never used as results of this code).

Each table maps method -> size -> metric key -> value, with the metric keys of the benchmark that
reports it (for sorting: ``kendall_tau``, ``prop_wrong``, ``prop_any_wrong``, ``l1_x100``,
``l2_x1000``, as in :mod:`experiments.sorting`). A value goes in only after it has been checked
against the paper's text; each table has a note saying where its values come from, or why it is
empty.
"""

from __future__ import annotations

from experiments.report import PaperValues

# Table 5 of the paper (number sorting). Empty: the paper's text is not available on this machine
# (searched the stored public corpora for it on 2026-11-28 without finding it), so no value could
# be checked, and none is typed from memory.
SORTING_TABLE5: PaperValues = {}
SORTING_TABLE5_NOTE = (
    "could not be checked here: the paper's text (Table 5) is not available on this machine, "
    "so no paper value is printed rather than an unchecked one."
)

# Table 4 of the paper (MNIST jigsaw), evaluation-set Kendall tau only: the values as quoted in
# the text of issue 5 ("about ..."). NOT checked against the paper's text, which is not available
# on this machine (searched the stored public corpora on 2026-11-28); the other Table 4 rows are
# left out rather than typed from memory.
JIGSAW_TABLE4: PaperValues = {
    "hste": {2: {"eval_kendall_tau": 1.00}, 3: {"eval_kendall_tau": 0.63},
             4: {"eval_kendall_tau": 0.29}, 5: {"eval_kendall_tau": 0.15},
             6: {"eval_kendall_tau": 0.10}},
    "sinkhorn": {2: {"eval_kendall_tau": 1.00}, 3: {"eval_kendall_tau": 0.66},
                 4: {"eval_kendall_tau": 0.33}, 5: {"eval_kendall_tau": 0.23},
                 6: {"eval_kendall_tau": 0.16}},  # Gumbel-Sinkhorn
}
JIGSAW_TABLE4_NOTE = (
    "Kendall tau only, as quoted in issue 5 (\"about\" these values); not checked against the "
    "paper's text, which is not available on this machine. Other Table 4 rows are not shown."
)
