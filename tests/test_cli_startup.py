"""Startup: ``hste --help`` imports no command module, and tracking a detections CSV with gnn
imports none of the heavy libraries (torch, pandas, matplotlib, scipy.stats, trackeval). Times are
measured by benchmarks/startup.py, not here."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from tracker.cli import BENCH_COMMANDS, COMMAND_HELP, DATA_COMMANDS, PLOT_COMMANDS, TOP_COMMANDS

HEAVY = ("torch", "pandas", "matplotlib", "scipy.stats", "motmetrics", "filterpy", "trackeval")


def test_every_lazy_command_has_a_summary_and_exists():
    for table in (BENCH_COMMANDS, DATA_COMMANDS, PLOT_COMMANDS, TOP_COMMANDS):
        for target in table.values():
            module, attribute = target.split(":")
            assert COMMAND_HELP[target]
            assert isinstance(getattr(importlib.import_module(module), attribute), click.Command)
    assert set(COMMAND_HELP) == {t for table in (BENCH_COMMANDS, DATA_COMMANDS, PLOT_COMMANDS,
                                                 TOP_COMMANDS) for t in table.values()}


def _loaded_after(args: list[str], cwd) -> set[str]:
    code = ("import sys\nfrom tracker.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "print('LOADED', ' '.join(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=cwd, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("LOADED"))
    return set(line.split()[1:])


def test_help_and_csv_tracking_import_nothing_heavy(tmp_path):
    loaded = _loaded_after(["--help"], tmp_path)
    assert not any(name.startswith("tracker.commands") for name in loaded)
    assert "numpy" not in loaded
    (tmp_path / "d.csv").write_text("time,x,y\n0,1,1\n0,50,50\n1,2,1\n1,50,52\n2,3,1\n")
    (tmp_path / "s.toml").write_text('kind = "cartesian"\nsigma = 1.0\npd = 0.9\n'
                                     'clutter_rate = 1\nregion = [0, 100, 0, 100]\n')
    loaded = _loaded_after(["track", "d.csv", "--sensor", "s.toml", "-o", "t.csv", "--quiet"],
                           tmp_path)
    assert (tmp_path / "t.csv").is_file()
    assert not [name for name in HEAVY if name in loaded]


def test_evaluate_imports_trackeval_only_to_score(tmp_path):
    """TrackEval (the optional hota extra) is imported when HOTA is computed, not by the help."""
    assert "trackeval" not in _loaded_after(["evaluate", "--help"], tmp_path)
