"""The differentiable unroll (tracker.unroll) and its label-free losses (tracker.unroll_losses):
gradients from a later frame's loss reach the first scan's assignment scores (exactly, on a
hand-made scene), the hard forward tracks exactly as the learned tracker, the losses against
hand-computed values, and ``hste train --unroll`` on tiny runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from scipy.stats import multivariate_normal
from test_tracking_cli import assert_refused, run

from sim import generate
from tracker.association.learned import LearnedAssociator
from tracker.association.losses import OperatorConfig
from tracker.evaluation import gospa
from tracker.perm import hungarian_ste
from tracker.scene_source import track_scene
from tracker.training import TrainingConfig, new_state
from tracker.unroll import (
    Call,
    ReplayState,
    ScanRecord,
    Unroll,
    UnrollConfig,
    kalman_gains,
    replay_keep,
    replay_predict,
    replay_update,
    report_weights,
)
from tracker.unroll_losses import candidate_loss, detection_nll, gospa_loss

CUTOFF = 50.0


def test_gospa_loss_is_the_hand_computed_value_and_the_evaluation_metric_squared():
    estimates = torch.tensor([[0.0, 0.0], [100.0, 0.0], [-300.0, 0.0]], dtype=torch.float64)
    truth = np.array([[3.0, 4.0], [100.0, 30.0], [500.0, 500.0]])
    # (0,0)-(3,4): 25; (100,0)-(100,30): 900; (500,500) missed and (-300,0) false: 1250 each
    loss = gospa_loss(estimates, torch.ones(3, dtype=torch.float64), truth, CUTOFF)
    assert float(loss) == 25.0 + 900.0 + 1250.0 + 1250.0
    assert float(loss) == pytest.approx(gospa(truth, estimates.numpy(), CUTOFF)[0] ** 2)
    weights = torch.tensor([0.5, 1.0, 0.25], dtype=torch.float64, requires_grad=True)
    weighted = gospa_loss(estimates, weights, truth, CUTOFF)
    assert float(weighted.detach()) == 0.5 * 25 + 0.5 * 1250 + 900 + 1250 + 0.25 * 1250
    weighted.backward()
    assert weights.grad.tolist() == [25.0 - 1250.0, 900.0 - 1250.0, 1250.0]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 6), st.integers(0, 6), st.integers(0, 2**31))
def test_gospa_loss_equals_the_evaluation_gospa_squared(tracks, targets, seed):
    rng = np.random.default_rng(seed)
    estimates, truth = rng.uniform(0, 150, (tracks, 2)), rng.uniform(0, 150, (targets, 2))
    loss = gospa_loss(torch.as_tensor(estimates), torch.ones(tracks, dtype=torch.float64),
                      truth, CUTOFF)
    assert float(loss) == pytest.approx(gospa(truth, estimates, CUTOFF)[0] ** 2, rel=1e-9)


def test_detection_nll_is_the_poisson_likelihood_ratio_by_hand():
    position = torch.tensor([[10.0, 20.0]], dtype=torch.float64, requires_grad=True)
    track_cov, det_cov = np.array([[[4.0, 1.0], [1.0, 3.0]]]), np.array([[[2.0, 0.0], [0.0, 2.0]]])
    detection, density, pd = np.array([[12.0, 17.0]]), np.array([1e-4]), np.array([0.8])
    loss = detection_nll(position, torch.ones(1, dtype=torch.float64), track_cov, pd, detection,
                         det_cov, density)
    likelihood = multivariate_normal(mean=[10.0, 20.0], cov=track_cov[0] + det_cov[0]).pdf(
        detection[0])
    expected = 0.8 - math.log1p(0.8 * likelihood / 1e-4)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-12)
    no_detections = detection_nll(position, torch.ones(1, dtype=torch.float64), track_cov, pd,
                                  np.zeros((0, 2)), np.zeros((0, 2, 2)), np.zeros(0))
    assert float(no_detections) == pytest.approx(0.8)


def _one_track_scan(scores: torch.Tensor, state: ReplayState, detections: np.ndarray,
                    covariance: np.ndarray, noise: np.ndarray) -> ScanRecord:
    """Scan of one track and two detections whose augmented (1+2) x (2+1) matrix is
    ``scores``, assigned by HSTE."""
    entries = hungarian_ste(scores)
    taken = np.flatnonzero(entries[0, :2].detach().numpy() > 0.5)
    call = Call(np.array([0]), np.array([0, 1]), np.array([0, 0]), np.array([0, 1]),
                entries[0, :2], entries[0, 2:3], taken if taken.size else np.array([-1]))
    free = np.setdiff1d([0, 1], taken)
    born = np.concatenate([detections[free], np.zeros((free.size, 2))], axis=1)
    return ScanRecord(state.ids, covariance, np.array([True]), np.array([True]),
                      np.array([0.9]), np.array([20.0]), detections, noise, np.full(2, 1e-6),
                      np.zeros((2, 7)), [call], np.append(state.ids, 100 + free), born)


def _miss_scan(state: ReplayState, covariance: np.ndarray) -> ScanRecord:
    return ScanRecord(state.ids, covariance, np.array([True]), np.array([True]),
                      np.array([0.9]), np.array([20.0]), np.zeros((0, 2)), np.zeros((0, 2, 2)),
                      np.zeros(0), np.zeros((0, 7)), [], state.ids, np.zeros((0, 4)))


def test_a_later_frames_loss_reaches_the_first_scans_scores_exactly():
    """One track takes detection 1 of two in scan 1, then misses for 4 frames; the GOSPA of the
    last frame differentiated by hand through 4 predicts and the Kalman update of scan 1."""
    covariance = np.diag([25.0, 25.0, 4.0, 4.0])[None]
    noise = np.stack([np.eye(2) * 9.0] * 2)
    detections = np.array([[3.0, -2.0], [-4.0, 5.0]])
    start = ReplayState.constant(np.array([7]), np.array([[0.0, 0.0, 10.0, 2.0]]))
    scores = torch.tensor([[1.0, 2.0, 0.5], [-1.0, -math.inf, 0.0], [-math.inf, -1.0, 0.0]],
                          dtype=torch.float64, requires_grad=True)
    state = replay_update(start, _one_track_scan(scores, start, detections, covariance, noise))
    assert state.ids.tolist() == [7, 100]  # detection 0 starts a track
    state = replay_keep(state, np.array([7]))
    transition = np.eye(4)
    transition[0, 2] = transition[1, 3] = 1.0
    for _ in range(4):
        state = replay_update(replay_predict(state, transition), _miss_scan(state, covariance))
    truth = np.array([[45.0, 20.0]])
    loss = gospa_loss(state.states[:, :2], state.weights, truth, CUTOFF)
    loss.backward()
    gains = kalman_gains(np.repeat(covariance, 2, 0), noise)
    corrections = np.einsum("kij,kj->ki", gains, detections)  # innovation: z - Hx, Hx = 0
    final = np.linalg.matrix_power(transition, 4) @ (start.states[0].numpy() + corrections[1])
    error = final[:2] - truth[0]
    expected_pairs = [2.0 * error @ (np.linalg.matrix_power(transition, 4) @ c)[:2]
                      for c in corrections]
    expected_missed = -(float(error @ error) - CUTOFF**2 / 2.0)
    assert float(loss.detach()) == pytest.approx(float(error @ error), rel=1e-12)
    assert scores.grad[0, :2].numpy() == pytest.approx(np.array(expected_pairs), rel=1e-10)
    assert float(scores.grad[0, 2]) == pytest.approx(expected_missed, rel=1e-10)
    assert all(v != 0 for v in expected_pairs)
    assert scores.grad[1:].abs().sum() == 0


def test_report_weights_are_the_confirmations_with_the_evidence_gradient_of_a_sigmoid():
    """A tentative track (score 8.2, confirmation at 9.2) born at detection 0 and a confirmed
    one that took detection 1: weights 0 and 1; the candidate loss of the tentative track is 0
    and its gradient reaches the evidence of detection 0 through sigmoid'(-1)."""
    start = ReplayState.constant(np.array([7]), np.array([[0.0, 0.0, 10.0, 2.0]]))
    scores = torch.tensor([[1.0, 2.0, 0.5], [-1.0, -math.inf, 0.0], [-math.inf, -1.0, 0.0]],
                          dtype=torch.float64)
    evidence = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    scan = _one_track_scan(scores, start, np.array([[3.0, -2.0], [-4.0, 5.0]]),
                           np.diag([25.0, 25.0, 4.0, 4.0])[None], np.stack([np.eye(2) * 9.0] * 2))
    state = replay_update(start, scan, evidence)
    weights = report_weights(state, np.array([30.0, 8.2]), np.array([True, False]), 9.2)
    assert weights.detach().tolist() == [1.0, 0.0]
    loss = candidate_loss(state.states[1:, :2], weights[1:], np.array([[3.0, -1.0]]), CUTOFF)
    assert float(loss.detach()) == 0.0
    loss.backward()
    slope = float(torch.sigmoid(torch.tensor(-1.0)) * (1 - torch.sigmoid(torch.tensor(-1.0))))
    assert evidence.grad.tolist() == pytest.approx([slope * (1.0 - CUTOFF**2 / 2.0), 0.0])


def _scene(frames: int, seed: int = 4):
    return generate(TrainingConfig(preset="crossing", frames=frames).scenario(), seed)


def _unroll_config(mode="end-to-end", window=20, operator="hste", noise=0.0, samples=1):
    return UnrollConfig(mode, window, OperatorConfig(operator, 1.0, noise, samples),
                        TrainingConfig().tracker())


def test_the_hard_forward_with_the_gnn_init_network_tracks_as_the_learned_tracker():
    model = new_state(TrainingConfig(hidden=8, rounds=1)).model
    scene = _scene(12)
    result = Unroll(model, [scene, scene], _unroll_config(window=5)).run(backward=False)
    reference = track_scene(LearnedAssociator(model), scene, TrainingConfig().tracker())
    assert len(reference) > 50
    for table in result.tables:
        for name in ("frame", "id", "confirmed"):
            assert np.array_equal(getattr(table, name), getattr(reference, name)), name
        assert np.array_equal(table.positions, reference.positions)
    assert result.state_error < 1e-9


@pytest.mark.parametrize("operator", ["hste", "sinkhorn"])
def test_gradients_of_later_frames_flow_back_into_the_first_scans_scores(operator):
    """The first association scan's score gradients with the loss of frames 1-3 only differ
    from those with frames 1-9 (same hard forward, noise 0): the later frames reach it."""
    model = new_state(TrainingConfig(hidden=8, rounds=1)).model
    grads = {}
    for frames in (3, 9):
        unroll = Unroll(model, [_scene(9)], _unroll_config(window=frames, operator=operator),
                        keep_scores=True)
        unroll.run(frames=frames)
        first = unroll.scores[0].pair.grad
        assert first is not None and torch.isfinite(first).all()
        grads[frames] = first * frames  # undo the mean over frames
    assert grads[9].shape == grads[3].shape
    assert (grads[9] - grads[3]).abs().max() > 1e-6
    assert all(torch.isfinite(p.grad).all() for p in model.network.parameters()
               if p.grad is not None)


def test_unsupervised_unroll_gives_finite_gradients_and_noise_changes_the_rollouts():
    model = new_state(TrainingConfig(hidden=8, rounds=1)).model
    config = _unroll_config("unsupervised", window=4, noise=3.0, samples=2)
    result = Unroll(model, [_scene(8)], config, torch.Generator().manual_seed(1)).run()
    assert math.isfinite(result.loss)
    head = model.network.pair_head.weight.grad
    assert head is not None and head.abs().sum() > 0
    assert not np.array_equal(result.tables[0].positions[:200], result.tables[1].positions[:200])


UNROLL = ["--preset", "crossing", "--frames", "6", "--scenes-per-epoch", "2", "--batch-scenes",
          "2", "--passes", "1", "--hidden", "8", "--rounds", "1", "--samples", "2",
          "--mode", "end-to-end", "--unroll", "3", "--validation-scenes", "1"]


def test_train_unrolled_writes_checkpoints_with_their_config_and_resumes_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run("train", *UNROLL, "--epochs", "2", "--out", straight).exit_code == 0
    assert run("train", *UNROLL, "--epochs", "1", "--out", split).exit_code == 0
    result = run("train", "--resume", "--epochs", "2", "--out", split)
    assert result.exit_code == 0, result.output
    saved = [torch.load(path / "checkpoint.pt", weights_only=True) for path in (straight, split)]
    assert saved[0]["training"]["unroll"] == 3 and saved[0]["training"]["mode"] == "end-to-end"
    for name, value in saved[0]["state_dict"].items():
        assert torch.equal(saved[1]["state_dict"][name], value), name
    best = torch.load(straight / "best.pt", weights_only=True)
    assert best["training"]["unroll"] == 3


def test_unrolled_training_refuses_labels_and_several_ranks(tmp_path):
    out = tmp_path / "run"
    assert_refused(run("train", *UNROLL, "--mode", "supervised", "--out", out),
                   "unroll needs mode", out / "checkpoint.pt")
    assert_refused(run("train", *UNROLL, "--nproc", "2", "--out", out), "one rank",
                   out / "checkpoint.pt")


def test_per_frame_training_is_still_the_default():
    assert TrainingConfig().unroll == 0
    with pytest.raises(Exception, match="unroll must be"):
        TrainingConfig(mode="end-to-end", unroll=-1)
