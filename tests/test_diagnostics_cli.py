"""``hste bench sinkhorn`` end to end: the --quick run's files and numbers, and bad input."""

import json

import pytest
from click.testing import CliRunner

from tracker.cli import main

PNGS = {
    "patterns_3x3.png",
    "plateaus_error_curves.png",
    "plateaus_lengths.png",
    "variable_length_iterations.png",
    "vanishing_gradient.png",
    "landscapes.png",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sinkhorn")
    result = CliRunner().invoke(main, ["bench", "sinkhorn", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_quick_run_writes_every_figure_the_json_and_the_summary(quick_run):
    names = {path.name for path in quick_run.iterdir()}
    assert names == PNGS | {"sinkhorn_diagnostics.json", "summary.md"}
    for name in PNGS:
        assert (quick_run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (quick_run / "summary.md").read_text()
    assert "hste bench sinkhorn --part all --out" in summary and "--quick" in summary


def test_quick_run_numbers(quick_run):
    document = json.loads((quick_run / "sinkhorn_diagnostics.json").read_text())
    results = document["results"]
    patterns = results["patterns"]["3"]
    assert (patterns["never_converging"], patterns["zero_line"]) == (18, 247)
    assert patterns["groups"]["square"]["count"] == 6
    for pattern in results["plateaus"]["patterns"]:
        lengths = [k for k in pattern["plateau_normalisations"] if k is not None]
        assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
    assert all(cell["not_converged"] == 0 for cell in results["variable-length"]["gaussian"])
    hste = results["gradients"]["permutation"]["float64"]
    assert hste["hste_times_tau_min"] == pytest.approx(1.0)
    assert hste["hste_times_tau_max"] == pytest.approx(1.0)
    assert [p["distinct"] >= 1 for p in results["landscapes"]["panels"]] == [True, True]


def test_one_part_writes_only_its_files(tmp_path):
    result = CliRunner().invoke(
        main, ["bench", "sinkhorn", "--part", "landscapes", "--quick", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "landscapes.png",
        "sinkhorn_diagnostics.json",
        "summary.md",
    }
    assert list(json.loads((tmp_path / "sinkhorn_diagnostics.json").read_text())["results"]) == [
        "landscapes"
    ]


def test_config_file_overrides_a_field(tmp_path):
    config = tmp_path / "diag.toml"
    config.write_text("[landscapes]\nresolution = 7\n")
    out = tmp_path / "out"
    args = ["bench", "sinkhorn", "--part", "landscapes", "--quick", "--config", str(config)]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "sinkhorn_diagnostics.json").read_text())
    assert document["results"]["landscapes"]["points"] == 28


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[landscapes]\nresolutoin = 7\n", "unknown field"),
        ("[nope]\nx = 1\n", "unknown table"),
        ("[landscapes\n", "cannot read config"),
        ('[landscapes]\nresolution = "big"\n', "resolution must be int"),
        ("[gradients]\nks = [4, true]\n", "ks must be a list of numbers"),
    ],
)
def test_bad_config_is_one_line_exit_2_and_no_output(tmp_path, toml, message):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["bench", "sinkhorn", "--quick", "--config", str(config), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = CliRunner().invoke(main, ["bench", "sinkhorn", "--quick", "--out", str(target)])
    assert result.exit_code == 2
    assert "not a folder" in result.output and len(result.output.strip().splitlines()) == 1
    assert target.read_text() == "keep me"


def test_missing_config_file_is_refused(tmp_path):
    result = CliRunner().invoke(
        main, ["bench", "sinkhorn", "--config", str(tmp_path / "none.toml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "cannot read config" in result.output
