"""Stone Soup's JPDA tracker on an hste scene, for ``benchmarks/hard_scenes.py`` (its own venv).

Like ``stonesoup_gnn.py`` (same scene reader, models, initiator, deleter, timing and CSV): the
association is ``JPDAwithEHM`` (exact marginals by efficient hypothesis management, clustered)
over a ``PDAHypothesiser`` (``--pd``, ``--clutter-density`` per m^2, gate probability
``--gate-probability``) behind a Mahalanobis ``DistanceGater`` at the matching chi-square
radius, and the tracker is ``MultiTargetMixtureTracker`` (PDA state update by Gaussian-mixture
reduction; a detection starts a track unless some track weighs it above its own miss).

Example:
    /tmp/ssvenv/bin/python benchmarks/stonesoup_jpda.py scene.npz -o ss_jpda.csv --pd 0.7
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.probability import JPDAwithEHM
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.gater.distance import DistanceGater
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.hypothesiser.probability import PDAHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetMixtureTracker
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import KalmanUpdater
from stonesoup_gnn import SceneDetector, common_arguments, track_and_write


def kalman_parts(detector: SceneDetector, args) -> tuple[KalmanPredictor, KalmanUpdater]:
    """Nearly-constant-velocity predictor (q = ``args.noise_diff_coeff``) and Kalman updater."""
    q = args.noise_diff_coeff
    predictor = KalmanPredictor(CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(q), ConstantVelocity(q)]))
    return predictor, KalmanUpdater(detector.model)


def gated_pda_hypothesiser(predictor: KalmanPredictor, updater: KalmanUpdater, args,
                           normalise: bool = True) -> DistanceGater:
    """``PDAHypothesiser`` with ``args.pd``, ``args.clutter_density`` and
    ``args.gate_probability`` behind a Mahalanobis gate at the matching chi-square radius.
    ``normalise``: each track's hypothesis weights sum to 1 (else likelihood ratios)."""
    hypothesiser = PDAHypothesiser(predictor, updater, args.clutter_density, prob_detect=args.pd,
                                   prob_gate=args.gate_probability, normalise=normalise)
    radius = math.sqrt(-2.0 * math.log(1.0 - args.gate_probability))  # chi-square, 2 dof
    return DistanceGater(hypothesiser, Mahalanobis(), radius)


def gnn_initiator(detector: SceneDetector, predictor: KalmanPredictor, updater: KalmanUpdater,
                  deleter, args) -> MultiMeasurementInitiator:
    """``stonesoup_gnn.py``'s initiator: ``args.min_points`` GNN-associated updates confirm."""
    noise = detector.model.noise_covar[0, 0]
    prior = GaussianState(np.zeros((4, 1)), np.diag([noise, args.initial_speed_std**2] * 2))
    initiation = GNNWith2DAssignment(DistanceHypothesiser(predictor, updater, Mahalanobis(),
                                                          missed_distance=3))
    return MultiMeasurementInitiator(prior_state=prior, measurement_model=detector.model,
                                     deleter=deleter, data_associator=initiation,
                                     updater=updater, min_points=args.min_points)


def build_tracker(detector: SceneDetector, args) -> MultiTargetMixtureTracker:
    """The JPDA tracker of the module docstring with the settings in ``args``."""
    predictor, updater = kalman_parts(detector, args)
    associator = JPDAwithEHM(gated_pda_hypothesiser(predictor, updater, args))
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=args.max_misses)
    initiator = gnn_initiator(detector, predictor, updater, deleter, args)
    return MultiTargetMixtureTracker(initiator=initiator, deleter=deleter, detector=detector,
                                     data_associator=associator, updater=updater)


def probability_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the PDA hypothesiser's options (Pd, clutter density, gate probability)."""
    parser.add_argument("--pd", type=float, default=0.9, help="detection probability")
    parser.add_argument("--clutter-density", type=float, default=1e-6, help="per m^2")
    parser.add_argument("--gate-probability", type=float, default=0.999)
    return parser


def main() -> None:
    args = probability_arguments(common_arguments(__doc__.split("\n")[0])).parse_args()
    model = LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * args.noise**2)
    detector = SceneDetector(args.scene, model)
    track_and_write(build_tracker(detector, args), build_tracker(detector, args), args.output)


if __name__ == "__main__":
    main()
