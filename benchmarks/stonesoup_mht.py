"""Stone Soup's multi-frame assignment MHT on an hste scene, for ``benchmarks/hard_scenes.py``.

Runs in Stone Soup's own venv with ortools (``pip install "stonesoup[mfa]"``). Like
``stonesoup_jpda.py`` (same scene reader, models, gated ``PDAHypothesiser`` with ``--pd``,
``--clutter-density`` and ``--gate-probability``, 2-point GNN initiator, timing and CSV), but the
association is ``MFADataAssociator`` (Xia et al. 2019: the best joint assignment over a sliding
window of ``--slide-window`` scans by dual decomposition, then N-scan pruning: a track keeps the
hypotheses that agree with the best one before the window) over an ``MFAHypothesiser``.

Stone Soup has no tracker for MFA, so ``MfaTracker`` below is the loop of its MFA example plus
initiation and deletion, built from Stone Soup components:
- a confirmed track's state is a ``GaussianMixture`` of ``TaggedWeightedGaussianState`` components,
  one per surviving hypothesis, the tag its detection indices per scan (0: missed);
- the PDA hypothesis weights are likelihood ratios (``normalise=False``: miss ``1 - Pd Pg``,
  detection ``Pd N(z) / clutter density``), so a hypothesis' weight is the product over its scans
  and a component whose children all fit badly loses weight; the example's per-component
  normalisation would keep every parent's weight whatever the new scan says;
- a detection starts no track when some track's hypothesis on it outweighs that track's best miss
  hypothesis (``MultiTargetMixtureTracker``'s rule, as the JPDA run has it);
- a scan counts as an update (for ``--max-misses`` deletion) when the track's most probable
  hypothesis takes a detection; the track's reported state is that hypothesis' component.
New confirmed tracks from the initiator become one-component mixtures with an empty tag.

Example:
    /tmp/ssvenv-mht/bin/python benchmarks/stonesoup_mht.py scene.npz -o ss_mht.csv --pd 0.7
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from stonesoup.dataassociator.mfa import MFADataAssociator
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.mfa import MFAHypothesiser
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.types.mixture import GaussianMixture
from stonesoup.types.numeric import Probability
from stonesoup.types.state import TaggedWeightedGaussianState
from stonesoup.types.track import Track
from stonesoup.types.update import GaussianMixtureUpdate
from stonesoup_gnn import SceneDetector, common_arguments, track_and_write
from stonesoup_jpda import (
    gated_pda_hypothesiser,
    gnn_initiator,
    kalman_parts,
    probability_arguments,
)


@dataclass(frozen=True)
class Estimate:
    """A track's reported state: ``state_vector`` (4, 1) [x, vx, y, vy], ``covar`` (4, 4)."""

    id: str
    state_vector: np.ndarray
    covar: np.ndarray


def best_component(state: GaussianMixture) -> TaggedWeightedGaussianState:
    """The most probable hypothesis' component of a track's mixture."""
    return max(state.components, key=lambda component: component.weight)


def estimate(track: Track) -> Estimate:
    """The track's reported state: its most probable hypothesis' component."""
    best = best_component(track.state)
    return Estimate(track.id, best.state_vector, best.covar)


def as_mixture_track(track: Track) -> Track:
    """A new track holding ``track``'s last Gaussian state as a one-component tagged mixture."""
    state = track.state
    return Track([GaussianMixture([TaggedWeightedGaussianState(
        state.state_vector, state.covar, timestamp=state.timestamp, weight=Probability(1),
        tag=[])])])


class MfaTracker:
    """Iterates ``(time, list of Estimate)`` over the detector's frames: MFA association of the
    confirmed tracks, mixture update, deletion, initiation from the unclaimed detections."""

    def __init__(self, detector: SceneDetector, associator: MFADataAssociator, updater,
                 initiator, deleter) -> None:
        self.detector, self.associator, self.updater = detector, associator, updater
        self.initiator, self.deleter = initiator, deleter

    def _update(self, track: Track, hypotheses) -> set:
        """Appends the track's new mixture; returns the detections it claims."""
        components = [self.updater.update(hypothesis) if hypothesis else hypothesis.prediction
                      for hypothesis in hypotheses]
        best = best_component(GaussianMixture(components))
        if best.tag[-1]:
            track.append(GaussianMixtureUpdate(components=components, hypothesis=hypotheses))
        else:
            track.append(GaussianMixture(components))
        best_miss = max((h.prediction.weight for h in hypotheses if not h), default=0.0)
        return {h.measurement for h in hypotheses if h and h.prediction.weight > best_miss}

    def __iter__(self):
        tracks: set[Track] = set()
        for time, detections in self.detector:
            claimed = set()
            for track, hypotheses in self.associator.associate(tracks, detections, time).items():
                claimed |= self._update(track, hypotheses)
            tracks -= self.deleter.delete_tracks(tracks)
            tracks |= {as_mixture_track(track)
                       for track in self.initiator.initiate(detections - claimed, time)}
            yield time, [estimate(track) for track in tracks]


def build_tracker(detector: SceneDetector, args) -> MfaTracker:
    """The MFA tracker of the module docstring with the settings in ``args``."""
    predictor, updater = kalman_parts(detector, args)
    hypothesiser = MFAHypothesiser(gated_pda_hypothesiser(predictor, updater, args,
                                                          normalise=False))
    associator = MFADataAssociator(hypothesiser, slide_window=args.slide_window)
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=args.max_misses)
    initiator = gnn_initiator(detector, predictor, updater, deleter, args)
    return MfaTracker(detector, associator, updater, initiator, deleter)


def main() -> None:
    parser = probability_arguments(common_arguments(__doc__.split("\n")[0]))
    parser.add_argument("--slide-window", type=int, default=3,
                        help="MFA window in scans (N-scan pruning depth)")
    args = parser.parse_args()
    model = LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * args.noise**2)
    detector = SceneDetector(args.scene, model)
    track_and_write(build_tracker(detector, args), build_tracker(detector, args), args.output)


if __name__ == "__main__":
    main()
