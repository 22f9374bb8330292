"""Motion models and the state layout they own: CV exact, the coordinated turn against hand
computed turns and finite differences, per-track models in one tracker, the selector."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InputError
from tracker.association.gnn import GnnAssociator
from tracker.cli import main
from tracker.management import TrackSet
from tracker.models import (
    CT_SPACE,
    CV_SPACE,
    ConstantVelocity,
    CoordinatedTurn,
    MotionModels,
    StateSpace,
)
from tracker.pipeline import Tracker, TrackerConfig
from tracker.sensors import CartesianSensor
from tracker.sources import position_scan
from tracker.unroll import UnrollConfig

SENSOR = CartesianSensor(sigma=1.0, pd=0.99, clutter_rate=0.01, region=(-2000, 2000, -2000, 2000))


def gaussians(rng, count, dim):
    roots = rng.normal(size=(count, dim, dim))
    return rng.normal(0, 10, (count, dim)), roots @ roots.transpose(0, 2, 1) + np.eye(dim)


def test_cv_predict_is_the_kalman_predict_with_the_explicit_f_and_q():
    dt, q = 2.0, 0.5  # powers of two: the explicit numbers below are exact
    f = np.array([[1, 0, 2, 0], [0, 1, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]], float)
    noise = q * np.array([[8 / 3, 0, 2, 0], [0, 8 / 3, 0, 2], [2, 0, 2, 0], [0, 2, 0, 2]])
    model = ConstantVelocity(q)
    np.testing.assert_array_equal(model.transition(dt), f)
    np.testing.assert_array_equal(model.process_noise(dt), noise)
    states, covariances = gaussians(np.random.default_rng(0), 5, 4)
    predicted, predicted_cov = model.predict(states, covariances, dt)
    np.testing.assert_array_equal(predicted, states @ f.T)
    np.testing.assert_array_equal(predicted_cov, f @ covariances @ f.T + noise)


def test_cv_in_a_wider_space_leaves_the_extra_component_alone():
    states, covariances = gaussians(np.random.default_rng(1), 4, 5)
    predicted, predicted_cov = ConstantVelocity(0.7).predict(states, covariances, 1.5)
    alone, alone_cov = ConstantVelocity(0.7).predict(states[:, :4], covariances[:, :4, :4], 1.5)
    np.testing.assert_allclose(predicted[:, :4], alone, rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(predicted_cov[:, :4, :4], alone_cov, rtol=1e-14, atol=1e-12)
    np.testing.assert_array_equal(predicted[:, 4], states[:, 4])
    np.testing.assert_array_equal(predicted_cov[:, 4, 4], covariances[:, 4, 4])
    f = ConstantVelocity().transition(1.5)
    np.testing.assert_allclose(predicted_cov[:, :4, 4], (f @ covariances[:, :4, 4:])[..., 0],
                               rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_ct_turns_a_quarter_circle(sign):
    """10 m/s heading +x, turning pi/2 rad/s for 1 s: a quarter circle of radius 10 / (pi/2) m,
    ending at (r, +-r) heading +-y."""
    radius = 10.0 / (np.pi / 2)
    state = np.array([[0.0, 0.0, 10.0, 0.0, sign * np.pi / 2]])
    covariance = np.eye(5)[None]
    predicted, _ = CoordinatedTurn().predict(state, covariance, 1.0)
    np.testing.assert_allclose(predicted[0], [radius, sign * radius, 0.0, sign * 10.0,
                                              sign * np.pi / 2], atol=1e-12)
    # the mean map is exact, so two half steps are one full step
    half, _ = CoordinatedTurn().predict(state, covariance, 0.5)
    twice, _ = CoordinatedTurn().predict(half, covariance, 0.5)
    np.testing.assert_allclose(twice, predicted, atol=1e-12)


@given(seed=st.integers(0, 2**31), dt=st.floats(0.1, 3.0),
       omega=st.one_of(st.floats(-0.5, 0.5), st.sampled_from([0.0, 1e-9, -3e-5, 2e-4])))
def test_ct_jacobian_equals_finite_differences(seed, dt, omega):
    rng = np.random.default_rng(seed)
    state = np.append(rng.normal(0, 100, 2), rng.normal(0, 20, 2))
    state = np.append(state, omega)
    model = CoordinatedTurn()
    _, jacobian = model.transition_jacobian(state[None], dt)
    step = 1e-6
    columns = []
    for i in range(5):
        offset = np.zeros(5)
        offset[i] = step
        ahead, _ = model.transition_jacobian((state + offset)[None], dt)
        behind, _ = model.transition_jacobian((state - offset)[None], dt)
        columns.append((ahead[0] - behind[0]) / (2 * step))
    np.testing.assert_allclose(jacobian[0], np.stack(columns, axis=1), rtol=1e-6, atol=1e-5)


def test_ct_with_no_turn_and_no_turn_uncertainty_is_cv():
    states, covariances = gaussians(np.random.default_rng(2), 6, 5)
    states[:, 4] = 0.0
    covariances[:, 4, :] = covariances[:, :, 4] = 0.0
    model = CoordinatedTurn(noise_diff_coeff=0.7, turn_rate_noise=0.0)
    predicted, predicted_cov = model.predict(states, covariances, 2.0)
    cv, cv_cov = ConstantVelocity(0.7).predict(states[:, :4], covariances[:, :4, :4], 2.0)
    np.testing.assert_allclose(predicted[:, :4], cv, rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(predicted_cov[:, :4, :4], cv_cov, rtol=1e-14, atol=1e-12)
    assert np.all(predicted[:, 4] == 0.0) and np.all(predicted_cov[:, 4, :] == 0.0)
    states[:, 4] = 1e-9  # a vanishing turn: the arc is a line up to ~omega dt
    nearly, _ = model.predict(states, covariances, 2.0)
    np.testing.assert_allclose(nearly[:, :4], cv, rtol=1e-7, atol=1e-6)


def test_initial_states_put_position_and_velocity_where_the_space_says():
    positions = np.array([[10.0, -5.0]])
    position_cov = np.array([[[4.0, 1.0], [1.0, 9.0]]])
    velocity_cov = np.eye(2)[None] * 225.0
    states, covariances = CoordinatedTurn(turn_rate_std=0.2).initial_state(
        positions, np.array([[3.0, 4.0]]), position_cov, velocity_cov)
    np.testing.assert_array_equal(states, [[10.0, -5.0, 3.0, 4.0, 0.0]])
    np.testing.assert_array_equal(np.diag(covariances[0]), [4.0, 9.0, 225.0, 225.0, 0.2**2])
    np.testing.assert_array_equal(CT_SPACE.position_covariance(covariances), position_cov)
    assert np.count_nonzero(covariances[0]) == 7  # no correlation between the blocks
    np.testing.assert_array_equal(CT_SPACE.measurement_matrix, np.eye(2, 5))


def test_state_spaces_and_model_sets_are_checked():
    with pytest.raises(ValueError, match="adjacent"):
        StateSpace(("x", "vx", "y", "vy"))
    acceleration = SimpleNamespace(space=StateSpace(("x", "y", "vx", "vy", "ax", "ay")))
    with pytest.raises(ValueError, match="prefixes"):
        MotionModels((CoordinatedTurn(), acceleration))
    with pytest.raises(ValueError, match="at least one"):
        MotionModels(())
    assert MotionModels((ConstantVelocity(), CoordinatedTurn())).space == CT_SPACE
    with pytest.raises(ValueError, match="state spaces"):
        TrackSet.empty(CV_SPACE).extend(TrackSet.empty(CT_SPACE))


def test_models_predict_each_track_with_its_own_model():
    states, covariances = gaussians(np.random.default_rng(3), 7, 5)
    which = np.array([1, 0, 0, 1, 1, 0, 1])
    models = MotionModels((ConstantVelocity(0.3), CoordinatedTurn(0.3, 1e-3)))
    predicted, predicted_cov = models.predict(states, covariances, which, 1.2)
    for index, model in enumerate(models.models):
        rows = which == index
        alone, alone_cov = model.predict(states[rows], covariances[rows], 1.2)
        np.testing.assert_array_equal(predicted[rows], alone)
        np.testing.assert_array_equal(predicted_cov[rows], alone_cov)


class Predictions:
    """Keeps the predicted states of every association problem."""

    def __init__(self):
        self.states = []

    def observe_scan(self, report):
        self.states.extend(problem.inputs.track_states for problem in report.problems)


def test_one_tracker_runs_tracks_of_different_models():
    """Two tracks born by the first model (cv); one is switched to ct; the next predict moves
    each by its own model, both are updated and written to the tracks file."""
    models = MotionModels((ConstantVelocity(), CoordinatedTurn()))
    predictions = Predictions()
    tracker = Tracker(GnnAssociator(), [SENSOR], motion_model=models, observers=[predictions])
    tracker.step(0.0, [position_scan(0.0, [[0.0, 0.0], [500.0, 0.0]])])
    assert tracker.tracks.states.shape == (2, 5) and np.all(tracker.tracks.model == 0)
    before = tracker.tracks
    covariances = before.covariances.copy()
    covariances[1, 4, 4] = 0.01
    states = before.states.copy()
    states[:, 2], states[1, 4] = 10.0, 0.2
    tracker.tracks = dataclasses.replace(before, states=states, covariances=covariances,
                                         model=np.array([0, 1]))
    tracker.step(1.0, [position_scan(1.0, [[10.0, 0.0], [509.0, 1.0]])])
    cv, _ = ConstantVelocity().predict(states[:1], covariances[:1], 1.0)
    ct, _ = CoordinatedTurn().predict(states[1:], covariances[1:], 1.0)
    np.testing.assert_array_equal(predictions.states[-1], np.concatenate([cv, ct]))
    assert tracker.tracks.model.tolist() == [0, 1] and tracker.tracks.hits.tolist() == [2, 2]
    table = tracker.run([position_scan(2.0, [[20.0, 0.0], [518.0, 3.0]])])
    np.testing.assert_array_equal(table.vx, tracker.tracks.states[:, 2])
    np.testing.assert_array_equal(table.cov_yy, tracker.tracks.covariances[:, 1, 1])


def circling_scans(frames=40, omega=0.1, speed=20.0, sigma=1.0):
    """One target circling at ``omega`` rad/s, seen with noise ``sigma`` m once a second."""
    rng = np.random.default_rng(4)
    times = np.arange(frames, dtype=float)
    radius = speed / omega
    truth = np.stack([radius * np.sin(omega * times), radius * (1 - np.cos(omega * times))], 1)
    scans = [position_scan(t, [xy + rng.normal(0, sigma, 2)])
             for t, xy in zip(times, truth, strict=True)]
    return scans, truth


def test_ct_tracker_estimates_the_turn_rate_and_follows_the_turn_better():
    scans, truth = circling_scans()
    errors, turn_rates = {}, []
    for name in ("cv", "ct"):
        tracker = Tracker(GnnAssociator(), [SENSOR], TrackerConfig(motion_model=name))
        positions = []
        for scan in scans:
            tracks = tracker.step(scan.time, [scan])
            assert tracks.ids.tolist() == [1]
            positions.append(tracks.positions[0])
            if name == "ct":
                turn_rates.append(tracks.states[0, 4])
        errors[name] = np.sqrt(np.mean(np.sum((np.array(positions) - truth)[10:] ** 2, 1)))
    assert abs(np.mean(turn_rates[20:]) - 0.1) < 0.003, turn_rates[20:]
    assert errors["ct"] < 0.8 * errors["cv"], errors


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def scene_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("scene") / "scene.npz"
    assert run("simulate", "--preset", "manoeuvring", "--frames", "12", "--seed", "5", "-o",
               path).exit_code == 0
    return path


def test_motion_model_is_selected_by_toml_or_cli(tmp_path, scene_path):
    outputs = {}
    ct_toml = tmp_path / "ct.toml"
    ct_toml.write_text('motion_model = "ct"\n')
    for name, options in {"cv": [], "ct": ["--motion-model", "ct"], "toml": ["--config", ct_toml],
                          "override": ["--config", ct_toml, "--motion-model", "cv"]}.items():
        out = tmp_path / f"{name}.csv"
        result = run("track", scene_path, *options, "-o", out, "--quiet")
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
    assert outputs["ct"] != outputs["cv"]
    assert outputs["toml"] == outputs["ct"] and outputs["override"] == outputs["cv"]


def test_the_unroll_refuses_a_model_it_cannot_replay():
    with pytest.raises(InputError, match="constant-velocity motion model only"):
        UnrollConfig(tracker=TrackerConfig(motion_model="ct"))

