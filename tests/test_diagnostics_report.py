"""The Sinkhorn diagnostics summary: the paper's App. D k beside ours, rebuilt from the JSON."""

import shutil
from pathlib import Path

import pytest

from common.errors import InputError
from experiments.sinkhorn_diagnostics.report import JSON_NAME, printed_k, rewrite_summary

STORED = Path(__file__).resolve().parents[1] / "docs" / "results" / "sinkhorn" / JSON_NAME


def test_printed_k_is_marked_against_the_range_of_the_patterns():
    assert printed_k(1e-3, [10, 14]) == "12 (in)"
    assert printed_k(1e-3, [16, 16]) == "12 (out)"
    assert printed_k(1e-1, [None, None]) == "5"  # nothing measured: no mark
    assert printed_k(0.5, [4]) == "-"  # App. D has no k for this e
    assert [printed_k(e, [35]) for e in (1e-8, 1e-9, 1e-10)] == ["29 (out)", "32 (out)", "35 (in)"]


def test_summary_rebuilt_from_the_stored_json(tmp_path):
    shutil.copy(STORED, tmp_path / JSON_NAME)
    rewrite_summary(tmp_path)
    text = (tmp_path / "summary.md").read_text()
    assert "| e | -log2 e | k = -log2 e + 2 | paper's k (App. D, printed) |" in text
    assert "| 1e-01 | 3.32 | 5.322 | 5 (out) | 10 | 8 |" in text
    assert "| 1e-03 | 9.97 | 11.97 | 12 (out) | 16 | 16 |" in text


def test_no_json_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no diagnostics run"):
        rewrite_summary(tmp_path)
