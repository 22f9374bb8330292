"""Regression tests of issue 20, through the real commands: bad or unlucky input is answered by
exit 0 with the documented behaviour or by exit status 2 and one ``Error:`` line, never a
traceback, a destroyed input or a partial output."""

from __future__ import annotations

import hashlib

from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_tracking_cli import assert_refused, run

TINY_TRAIN = ["--preset", "crossing", "--frames", "6", "--scenes-per-epoch", "2",
              "--batch-scenes", "2", "--passes", "1", "--hidden", "8", "--rounds", "1",
              "--samples", "2", "--validation-scenes", "1"]


def digests(folder):
    """{file name: sha256} of every file in ``folder`` (hidden temp files included)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_fresh_run_into_a_finished_run_is_refused_unless_overwrite(tmp_path):
    """Item 1: forgetting --resume must not replace best.pt, checkpoint.pt or log.csv."""
    out = tmp_path / "run"
    assert run("train", *TINY_TRAIN, "--epochs", "1", "--out", out).exit_code == 0
    before = digests(out)
    assert_refused(run("train", *TINY_TRAIN, "--epochs", "1", "--out", out),
                   "use --resume to continue it, a new --out, or --overwrite to replace it")
    assert digests(out) == before
    result = run("train", *TINY_TRAIN, "--epochs", "1", "--seed", "3", "--out", out,
                 "--overwrite")
    assert result.exit_code == 0, result.output
    assert set(digests(out)) == set(before) and digests(out) != before


def test_resume_refuses_what_it_would_ignore(tmp_path):
    """Item 8: --config and a smaller --epochs are refused; nothing left to train is said."""
    out = tmp_path / "run"
    assert run("train", *TINY_TRAIN, "--epochs", "2", "--out", out).exit_code == 0
    before = digests(out)
    config = tmp_path / "t.toml"
    config.write_text("epochs = 5\n")
    assert_refused(run("train", "--resume", "--config", config, "--out", out),
                   "--config is not read with --resume")
    assert_refused(run("train", "--resume", "--epochs", "1", "--out", out),
                   "holds 2 finished epoch(s); --epochs 1 would train nothing")
    assert_refused(run("train", "--resume", "--overwrite", "--out", out), "contradict")
    done = run("train", "--resume", "--out", out)
    assert done.exit_code == 0 and "all 2 epoch(s) already done" in done.stderr
    assert digests(out) == before
