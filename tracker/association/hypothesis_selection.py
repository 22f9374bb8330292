"""The best global hypothesis of a multiple-hypothesis tracker (``mht``).

H track hypotheses, each belonging to one of T tracks and using a set of detections over a
window of scans (its *keys*): choose exactly one hypothesis per track, no key used by two chosen
hypotheses, with the largest summed score (log-likelihood ratio). This is weighted set packing,
NP-hard in general, but small in tracking: each track first takes its own best hypothesis, and
only the tracks whose best hypotheses collide, with every track joined to them through shared
keys (a connected component of the track-key graph), are solved together, exactly: by
enumerating every choice when there are at most ``enumeration_limit`` of them, else as an
integer linear program (HiGHS, :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

NO_KEY = -1
"""Key of a scan in which a hypothesis took no detection (a miss, or a scan not yet seen)."""

ENUMERATION_LIMIT = 4096
"""Components with at most this many choices (the product of their tracks' hypothesis counts)
are enumerated; about 10x faster than an integer program's set-up there."""


class NoGlobalHypothesis(ValueError):
    """No choice of one hypothesis per track leaves every key used at most once."""


def best_per_track(track: np.ndarray, score: np.ndarray, num_tracks: int) -> np.ndarray:
    """(T,) index of each track's highest-scoring hypothesis (the first of ties); ValueError if
    a track has none."""
    order = np.lexsort((-score, track))
    first = np.flatnonzero(np.r_[True, track[order][1:] != track[order][:-1]])
    if first.size != num_tracks or not np.array_equal(track[order][first], np.arange(num_tracks)):
        raise ValueError("every track needs at least one hypothesis")
    return order[first]


def best_hypotheses(track: np.ndarray, score: np.ndarray, keys: np.ndarray,
                    num_tracks: int, enumeration_limit: int = ENUMERATION_LIMIT) -> np.ndarray:
    """The best global hypothesis: one hypothesis per track, each key used at most once.

    Args:
        track: (H,) int, the track in ``[0, T)`` of each hypothesis.
        score: (H,) finite float, each hypothesis's log-likelihood ratio (larger = better).
        keys: (H, W) int64 detections each hypothesis used, one column per scan of the window,
            :data:`NO_KEY` where it used none. A hypothesis's keys must be distinct.
        num_tracks: T.
        enumeration_limit: components with at most this many choices are enumerated, larger
            ones go to the integer program (the same optimum; ties may differ).
    Returns:
        (T,) int64, the index into H of each track's chosen hypothesis.
    Raises:
        ValueError: bad shapes, a non-finite score or a track without hypotheses.
        NoGlobalHypothesis: a component with no feasible choice.
    """
    track, score = np.asarray(track, dtype=np.int64), np.asarray(score, dtype=np.float64)
    keys = np.asarray(keys, dtype=np.int64).reshape(track.size, -1)
    if score.shape != track.shape or not np.isfinite(score).all():
        raise ValueError("track and score must be (H,) with finite scores")
    chosen = best_per_track(track, score, num_tracks)
    chosen_keys = keys[chosen][keys[chosen] != NO_KEY]
    if np.unique(chosen_keys).size == chosen_keys.size:
        return chosen  # no two tracks' best hypotheses collide
    candidates = _undominated(track, score, keys, num_tracks)
    used = keys[candidates] != NO_KEY
    owner = np.broadcast_to(track[candidates, None], used.shape)[used]
    key_values, key_index = np.unique(keys[candidates][used], return_inverse=True)
    graph = coo_matrix((np.ones(owner.size), (owner, num_tracks + key_index)),
                       shape=(num_tracks + key_values.size,) * 2)
    _, label = connected_components(graph, directed=False)
    values, counts = np.unique(chosen_keys, return_counts=True)
    clashing = np.isin(keys[chosen], values[counts > 1]).any(axis=1)
    for component in np.unique(label[:num_tracks][clashing]):
        members = np.flatnonzero(label[:num_tracks] == component)
        rows = candidates[np.isin(track[candidates], members)]
        local = np.searchsorted(members, track[rows])
        solve = (_enumerate_component
                 if np.prod(np.bincount(local).astype(float)) <= enumeration_limit
                 else _solve_component)
        chosen[members] = rows[solve(local, score[rows], keys[rows], members.size)]
    return chosen


def _undominated(track: np.ndarray, score: np.ndarray, keys: np.ndarray,
                 num_tracks: int) -> np.ndarray:
    """Indices of the hypotheses that can be in an optimum (arguments as
    :func:`best_hypotheses`). A hypothesis is *private* when no other track's hypotheses use any
    of its keys; one scoring below its track's best private hypothesis never is in an optimum
    (swapping it for that one frees keys and gains score), so it is dropped."""
    used = keys != NO_KEY
    owner = np.broadcast_to(track[:, None], keys.shape)[used]
    _, key_index = np.unique(keys[used], return_inverse=True)
    key_owner = np.unique(np.stack([key_index, owner]), axis=1)
    shared = np.zeros(keys.shape, dtype=bool)
    shared[used] = np.bincount(key_owner[0], minlength=key_index.size)[key_index] > 1
    private = ~shared.any(axis=1)
    best_private = np.full(num_tracks, -np.inf)
    np.maximum.at(best_private, track[private], score[private])
    return np.flatnonzero(score >= best_private[track])


def _enumerate_component(track: np.ndarray, score: np.ndarray, keys: np.ndarray,
                         num_tracks: int) -> np.ndarray:
    """(T,) index of each track's hypothesis in the best of every choice of one hypothesis per
    track (arguments as :func:`best_hypotheses`, tracks numbered from 0; the first of ties)."""
    order = np.argsort(track, kind="stable")
    counts = np.bincount(track, minlength=num_tracks)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    choice = order[starts + np.indices(counts).reshape(num_tracks, -1).T]  # (C, T)
    total = score[choice].sum(axis=1)
    used = np.sort(keys[choice].reshape(choice.shape[0], -1), axis=1)
    clash = ((used[:, 1:] == used[:, :-1]) & (used[:, 1:] != NO_KEY)).any(axis=1)
    if clash.all():
        raise NoGlobalHypothesis("no feasible global hypothesis")
    return choice[np.argmax(np.where(clash, -np.inf, total))]


def _solve_component(track: np.ndarray, score: np.ndarray, keys: np.ndarray,
                     num_tracks: int) -> np.ndarray:
    """(T,) index of each track's hypothesis in the exact optimum of one component (arguments
    as :func:`best_hypotheses`, tracks numbered from 0); the integer program

        maximise sum_h score_h x_h  s.t.  sum_{h of track t} x_h = 1,  sum_{h using k} x_h <= 1,
        x in {0, 1}.
    """
    from scipy.optimize import LinearConstraint, milp

    count = track.size
    used = keys != NO_KEY
    hypothesis = np.broadcast_to(np.arange(count)[:, None], keys.shape)[used]
    _, key_index = np.unique(keys[used], return_inverse=True)
    rows = np.concatenate([track, num_tracks + key_index])
    columns = np.concatenate([np.arange(count), hypothesis])
    matrix = coo_matrix((np.ones(rows.size), (rows, columns)),
                        shape=(num_tracks + int(key_index.max(initial=-1)) + 1, count)).tocsr()
    lower = np.r_[np.ones(num_tracks), np.zeros(matrix.shape[0] - num_tracks)]
    best = np.full(num_tracks, -np.inf)
    np.maximum.at(best, track, score)
    shifted = score - best[track]  # each track's best at 0: the same optimum, better conditioned
    # presolve off: HiGHS's presolve prints a debugging line on some of these problems
    result = milp(-shifted, constraints=LinearConstraint(matrix, lower, np.ones(matrix.shape[0])),
                  integrality=np.ones(count), bounds=(0, 1),
                  options={"presolve": False, "mip_rel_gap": 0.0})
    if result.status == 2:
        raise NoGlobalHypothesis(f"no feasible global hypothesis ({result.message})")
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the integer program found no proven optimum ({result.message})")
    taken = result.x > 0.5
    chosen = np.full(num_tracks, -1)
    chosen[track[taken]] = np.flatnonzero(taken)
    if np.any(chosen < 0) or np.count_nonzero(taken) != num_tracks:
        raise ValueError("the integer program returned no valid global hypothesis")
    return chosen
