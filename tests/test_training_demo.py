"""``hste demo`` end to end on a small setting (slow: it trains, tracks, scores and animates)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from learned_scans import single_thread  # noqa: F401 (autouse fixture)

from tracker.cli import main


@pytest.mark.slow
def test_demo_writes_everything_it_announces(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--preset", "crossing",
                                       "--epochs", "1", "--frames", "12"])
    assert result.exit_code == 0, result.output
    for name in ("train/best.pt", "train/log.csv", "scene.npz", "gnn.csv", "learned.csv",
                 "scores.json", "demo.gif"):
        assert (out / name).is_file(), name
        assert str(out / name) in result.output or name.startswith("train/log")
    scores = json.loads((out / "scores.json").read_text())
    assert set(scores["tracks"]) == {"gnn", "learned"}
