"""The jigsaw experiment: pieces, scorers, metrics, checkpointed training (tiny synthetic data)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from torch import nn

from common.errors import InputError
from experiments.jigsaw import (
    ContextScorer,
    JigsawConfig,
    PaperScorer,
    assemble,
    content_truth,
    cut_pieces,
    epochs_done,
    evaluate,
    piece_side,
    reconstruct,
    run,
    shuffle_pieces,
    train_epoch,
)
from tracker.cli import main

SHARED_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def random_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize(("size", "side", "start"), [(2, 14, 0), (3, 9, 0), (5, 5, 1), (6, 4, 2)])
def test_cut_pieces_crops_the_centre_and_reassembles(size, side, start):
    images = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 28, 28)
    pieces = cut_pieces(images, size)
    assert piece_side(size) == side and pieces.shape == (2, size * size, side, side)
    crop = images[:, start : start + size * side, start : start + size * side]
    torch.testing.assert_close(assemble(pieces, size), crop, rtol=0, atol=0)
    # piece j = row * M + col: the last piece of the first row starts at column (M - 1) * s
    assert pieces[0, size - 1, 0, 0] == images[0, start, start + (size - 1) * side]


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 4), size=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_shuffle_indices_and_reconstruction_invert_each_other(batch, size, seed):
    pieces = torch.randn(batch, size * size, 3, 3, generator=torch.Generator().manual_seed(seed))
    shuffled, true_idx = shuffle_pieces(pieces, torch.Generator().manual_seed(seed))
    rows = torch.arange(batch)[:, None]
    torch.testing.assert_close(shuffled[rows, true_idx], pieces, rtol=0, atol=0)
    # the true permutation matrix, P[i, j] = 1 for input i at position j, rebuilds the image
    P = torch.zeros(batch, size * size, size * size)
    P[rows, true_idx, torch.arange(size * size)] = 1.0
    torch.testing.assert_close(reconstruct(P, shuffled), pieces.flatten(-2), rtol=0, atol=0)


def test_paper_scorer_has_the_table_3_shape():
    model = PaperScorer(3)
    assert model(torch.rand(2, 9, 9, 9)).shape == (2, 9, 9)
    conv, linear = model.g1[0], model.g2
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.padding) == (
        1, 64, (5, 5), (2, 2))
    assert linear.bias is None and linear.weight.shape == (9, 64 * 4 * 4)


def test_context_scorer_is_permutation_equivariant():
    torch.manual_seed(0)
    model = ContextScorer(3, width=32, layers=1, heads=2).eval()
    pieces = torch.rand(2, 9, 9, 9)
    order = torch.randperm(9)
    torch.testing.assert_close(model(pieces)[:, order], model(pieces[:, order]))


class PositionOracle(nn.Module):
    """Scores a piece by the position its grey level encodes (level = position / 100).

    Blank pieces (level 0) fit the first and the last position equally well.
    """

    def forward(self, pieces):
        position = pieces.mean(dim=(-1, -2)) * 100.0
        n = pieces.shape[1]
        columns = torch.arange(n)
        scores = -(position.unsqueeze(-1) - columns).abs()
        blank_fit = torch.where((columns == 0) | (columns == n - 1), 0.0, -100.0)
        return torch.where((position < 0.5).unsqueeze(-1), blank_fit, scores)


def encoded_images(size: int, n: int, blank_last: bool = False) -> np.ndarray:
    """Images whose piece at position j has grey level j / 100 (the last one 0 if blank_last)."""
    side = piece_side(size)
    levels = torch.arange(size * size, dtype=torch.float32) / 100.0
    if blank_last:
        levels[-1] = 0.0
    grid = levels.reshape(size, size).repeat_interleave(side, 0).repeat_interleave(side, 1)
    image = torch.zeros(28, 28)
    image[: size * side, : size * side] = grid
    return (image * 255.0).round().to(torch.uint8).expand(n, 28, 28).numpy()


def test_evaluate_is_perfect_for_an_oracle_scorer():
    config = JigsawConfig(size=3)
    metrics = evaluate(PositionOracle(), torch.from_numpy(encoded_images(3, 40)), config, seed=1)
    assert metrics["kendall_tau"] == 1.0 and metrics["prop_wrong"] == 0.0
    assert metrics["kendall_tau_list"] == 1.0
    assert metrics["prop_any_wrong"] == 0.0 and metrics["l1"] == 0.0 and metrics["l2"] == 0.0
    assert metrics["constraint_error_max"] == 0.0


def test_identical_pieces_count_as_interchangeable_only_in_content_metrics():
    # pieces 0 and 8 are both blank: the input cannot tell which is which
    images = torch.from_numpy(encoded_images(3, 200, blank_last=True))
    metrics = evaluate(PositionOracle(), images, JigsawConfig(size=3), seed=3)
    assert metrics["kendall_tau_content"] == 1.0 and metrics["prop_wrong_content"] == 0.0
    # the oracle puts a blank at 0 and 8 in input order: swapped in about half of the images,
    # each swap costing 2 of 9 positions and tau 1 - 2 * 15 / 36
    assert 0.3 < metrics["prop_any_wrong"] < 0.7
    assert metrics["prop_wrong"] == pytest.approx(metrics["prop_any_wrong"] * 2 / 9)
    assert metrics["kendall_tau"] == pytest.approx(1 - metrics["prop_any_wrong"] * 30 / 36)
    assert metrics["l1"] == 0.0


def test_content_truth_prefers_the_prediction_among_equivalent_truths():
    shuffled = torch.tensor([[0.0, 1.0, 0.0, 2.0]]).reshape(1, 4, 1, 1)  # inputs 0 and 2 equal
    true_idx = torch.tensor([[0, 1, 2, 3]])
    assert content_truth(shuffled, true_idx, torch.tensor([[2, 1, 0, 3]])).tolist() == [
        [2, 1, 0, 3]]
    assert content_truth(shuffled, true_idx, torch.tensor([[1, 0, 2, 3]])).tolist() == [
        [0, 1, 2, 3]]


@pytest.mark.parametrize("method", ["hste", "gumbel_sinkhorn"])
def test_training_lowers_the_loss_and_reports_constraint_error(method):
    config = JigsawConfig(size=2, method=method, batch_size=8, samples=3, lr=1e-3)
    torch.manual_seed(0)
    model = PaperScorer(2)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    images = torch.from_numpy(random_images(16))
    stats = train_epoch(model, optimizer, images, config, epoch=1)
    assert stats["loss"] > 0 and stats["epoch_time_s"] > 0
    if method == "hste":
        assert stats["step_constraint_error_mean"] == stats["step_constraint_error_max"] == 0.0
    else:
        assert 0 < stats["step_constraint_error_mean"] <= stats["step_constraint_error_max"]


def tiny_config(**changes) -> JigsawConfig:
    base = JigsawConfig(size=2, epochs=2, batch_size=8, samples=2, eval_subset=16, lr=1e-3,
                        train_eval_limit=16)
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize("model", ["paper", "ours"])
def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, model):
    train, held_out = random_images(16, 1), random_images(16, 2)
    config = tiny_config(model=model, size=2 if model == "paper" else 4, width=16, layers=1,
                         heads=2)
    straight = run(config, train, held_out, tmp_path / "a.pt")
    assert epochs_done(tmp_path / "b.pt", config) == 0
    run(dataclasses.replace(config, epochs=1), train, held_out, tmp_path / "b.pt")
    assert epochs_done(tmp_path / "b.pt", config) == 1  # where a progress bar resumes
    resumed = run(config, train, held_out, tmp_path / "b.pt")
    assert len(straight) == len(resumed) == 2
    for a, b in zip(straight, resumed, strict=True):  # the interrupted run adds train_ metrics
        assert {k: v for k, v in a.items() if k != "epoch_time_s"} == {
            k: b[k] for k in a if k != "epoch_time_s"}
    assert "train_kendall_tau" in straight[-1] and "train_kendall_tau" not in straight[0]
    a = torch.load(tmp_path / "a.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_finished_run_is_not_trained_again(tmp_path):
    train, held_out = random_images(16, 1), random_images(16, 2)
    first = run(tiny_config(), train, held_out, tmp_path / "c.pt")
    again = run(tiny_config(), train, held_out, tmp_path / "c.pt", on_epoch=pytest.fail)
    assert again == first


class Interrupted(Exception):
    pass


def interrupt(row: dict) -> None:
    raise Interrupted


def test_an_interrupted_run_can_be_accepted_at_its_last_epoch(tmp_path):
    train, held_out = random_images(16, 1), random_images(16, 2)
    with pytest.raises(Interrupted):  # killed after epoch 1 of 3
        run(tiny_config(epochs=3), train, held_out, tmp_path / "f.pt", on_epoch=interrupt)
    history = run(tiny_config(epochs=1), train, held_out, tmp_path / "f.pt")
    assert len(history) == 1 and "train_kendall_tau" in history[0]
    run(tiny_config(epochs=2), train, held_out, tmp_path / "g.pt")
    with pytest.raises(InputError, match="holds 2 epochs, more than the 1"):
        run(tiny_config(epochs=1), train, held_out, tmp_path / "g.pt")


def test_a_checkpoint_of_another_config_is_refused(tmp_path):
    train, held_out = random_images(16, 1), random_images(16, 2)
    run(tiny_config(epochs=1), train, held_out, tmp_path / "d.pt")
    with pytest.raises(InputError, match=r"different config \(lr\)"):
        run(tiny_config(lr=0.5), train, held_out, tmp_path / "d.pt")
    (tmp_path / "e.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable jigsaw checkpoint"):
        run(tiny_config(), train, held_out, tmp_path / "e.pt")


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"size": 1}, "size M=1"), ({"method": "x"}, "unknown method"), ({"model": "x"}, "model"),
     ({"samples": 0}, "samples must be >= 1"), ({"tau": 0.0}, "tau must be > 0")],
)
def test_bad_configs_are_input_errors(changes, message):
    with pytest.raises(InputError, match=message):
        JigsawConfig(**changes)


def test_config_from_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("size = 4\nsamples = 5\n")
    assert JigsawConfig.from_toml(path) == JigsawConfig(size=4, samples=5)
    path.write_text("sizes = 4\n")
    with pytest.raises(InputError, match="unknown config keys"):
        JigsawConfig.from_toml(path)
    path.write_text("epochs = 2.5\n")
    with pytest.raises(InputError, match="expected a value like 20"):
        JigsawConfig.from_toml(path)


def write_tiny_mnist(folder, n_train: int = 16, n_test: int = 8):
    from test_mnist import write_split  # the IDX writer of the reader's tests

    folder.mkdir()
    write_split(folder, n_train, "train", seed=1)
    write_split(folder, n_test, "t10k", seed=2)
    return folder


def test_cli_sweep_writes_report_and_resumes(tmp_path):
    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    args = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(out), "--sizes", "2",
            "--epochs", "1", "--methods", "hste,gumbel_sinkhorn", "--eval-subset", "8"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    results = (out / "results.csv").read_text().splitlines()
    assert results[0].startswith("method,size,seed,") and len(results) == 3
    report = (out / "report.md").read_text()
    assert "REDUCED run" in report and "--sizes 2 --epochs 1" in report
    assert "Complete: all 2 planned runs" in report and "Tie bound" in report
    assert (out / "fig3_constraint_error.png").stat().st_size > 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "M2_hste_seed0.pt", "M2_sinkhorn_seed0.pt"]  # gumbel_sinkhorn is read as sinkhorn
    history = (out / "history.csv").read_text()
    again = CliRunner().invoke(main, args)  # finished runs: nothing retrained, same numbers
    assert again.exit_code == 0 and "epoch 1/1" not in again.output
    assert (out / "history.csv").read_text() == history


def _without_times(history_csv: str) -> list[list[str]]:
    lines = [line.split(",") for line in history_csv.splitlines()]
    kept = [i for i, name in enumerate(lines[0]) if name != "epoch_time_s"]
    return [[line[i] for i in kept] for line in lines]


def test_cli_parallel_jobs_give_the_sequential_results(tmp_path):
    data = write_tiny_mnist(tmp_path / "mnist")
    args = ["bench", "jigsaw", "--data-dir", str(data), "--sizes", "2", "--epochs", "1",
            "--methods", "hste,gumbel_sinkhorn", "--eval-subset", "8"]
    sequential = CliRunner().invoke(main, args + ["--out", str(tmp_path / "a")])
    parallel = CliRunner().invoke(main, args + ["--out", str(tmp_path / "b"), "--jobs", "2"])
    assert sequential.exit_code == 0 and parallel.exit_code == 0, parallel.output
    assert "finished M2_sinkhorn_seed0 (" in parallel.output
    assert "finished M2_hste_seed0 (" in parallel.output and "(2 of 2)" in parallel.output
    assert _without_times((tmp_path / "a" / "history.csv").read_text()) == _without_times(
        (tmp_path / "b" / "history.csv").read_text())


def test_cli_parallel_jobs_refuse_bad_checkpoints_before_training(tmp_path):
    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    args = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(out), "--sizes", "2",
            "--epochs", "1", "--methods", "hste", "--eval-subset", "8"]
    assert CliRunner().invoke(main, args + ["--lr", "0.001"]).exit_code == 0
    result = CliRunner().invoke(main, args + ["--sizes", "2,3", "--jobs", "2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "was made with a different config (lr)" in result.output
    assert not (out / "checkpoints" / "M3_hste_seed0.pt").exists()
    (out / "checkpoints" / "M2_hste_seed0.pt").unlink()
    assert CliRunner().invoke(main, args + ["--epochs", "2"]).exit_code == 0
    shorter = CliRunner().invoke(main, args + ["--sizes", "2,3", "--jobs", "2"])
    assert shorter.exit_code == 2 and "holds 2 epochs, more than the 1 asked for" in shorter.output
    assert not (out / "checkpoints" / "M3_hste_seed0.pt").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--sizes", "2,x"], "comma-separated"), (["--methods", "hste,magic"], "'magic' is not"),
     (["--sizes", "1"], "size M=1"), (["--data-dir", "/nonexistent/mnist"], "not found")],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, args, message):
    data = write_tiny_mnist(tmp_path / "mnist")
    base = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(tmp_path / "out"),
            "--epochs", "1"]
    result = CliRunner().invoke(main, base + args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no MNIST copy at ../shared/data/mnist")
def test_short_real_training_beats_chance(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "bench", "jigsaw", "--data-dir", str(SHARED_MNIST), "--out", str(out), "--sizes", "2",
        "--methods", "hste", "--epochs", "2", "--train-subset", "1024", "--eval-subset", "500"])
    assert result.exit_code == 0, result.output
    header, row = (out / "results.csv").read_text().splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert float(values["eval_kendall_tau"]) > 0.5  # a random placement scores 0 on average
    assert float(values["step_constraint_error_max"]) == 0.0


def test_cli_report_only_collects_finished_runs_and_trains_nothing(tmp_path):
    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    base = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(out), "--eval-subset", "8",
            "--methods", "hste"]
    assert CliRunner().invoke(main, base + ["--sizes", "2", "--epochs", "1"]).exit_code == 0
    assert CliRunner().invoke(main, base + ["--sizes", "3", "--epochs", "1"]).exit_code == 0
    checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    # M=2,3 finished at 1 epoch; asked for 2 epochs, neither is finished; M=4 never ran.
    result = CliRunner().invoke(main, base + ["--sizes", "2,3,4", "--epochs", "1",
                                              "--report-only"])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "PARTIAL" in report and "2 of 3" in report and "--report-only" not in report
    assert len((out / "results.csv").read_text().splitlines()) == 3
    unfinished = CliRunner().invoke(main, base + ["--sizes", "2,3", "--epochs", "2",
                                                  "--report-only"])
    assert unfinished.exit_code == 2
    assert unfinished.output.strip().endswith(f"no finished runs of this sweep in {out}")
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == checkpoints


def test_report_rebuilt_from_the_stored_csvs_without_checkpoints(tmp_path):
    from experiments.jigsaw_report import main as rebuild

    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    args = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(out), "--sizes", "2",
            "--methods", "hste", "--epochs", "1", "--eval-subset", "8"]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = (out / "report.md").read_text()
    for path in (out / "checkpoints").iterdir():
        path.unlink()
    result = CliRunner().invoke(rebuild, ["--results", str(out), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert report.split("## Protocol")[0] == before.split("## Protocol")[0]
    assert "rebuilt from the stored runs.csv and history.csv" in report
    # the paper's tau (Table 4, M = 2: 1.00) beside both of ours
    for title in ("Kendall tau, list form (the paper's metric) (eval)",
                  "Kendall tau over misordered pairs (ours) (eval)"):
        row = report.split(f"### {title}")[1].split("\n")[4]
        assert row.startswith("| 2 | ") and row.endswith(" (1) | 1.00 |"), row
    missing = CliRunner().invoke(rebuild, ["--results", str(tmp_path), "--data-dir", str(data)])
    assert missing.exit_code == 2 and missing.output.startswith("Error: no sweep command")
