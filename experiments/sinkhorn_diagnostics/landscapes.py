"""Part 5 (Appendix B, Fig. 4): which permutation wins where, on a triangle of score matrices.

Three random matrices A, B, C with |N(0, 1)| entries are the corners of a triangle; each grid
point with barycentric weights (a, b, c), a + b + c = 1, scores X = a A + b B + c C. The point is
coloured by the permutation ``tracker.perm.hungarian(X)`` returns (n x n panels) or by the index
``argmax`` of the flattened X returns (n*n-dimensional panels: the same inputs, read as vectors).
All grid points go through one batched ``hungarian`` call.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.tri as mtri
import numpy as np
import torch
from matplotlib.colors import ListedColormap

from experiments.sinkhorn_diagnostics.config import LandscapesConfig
from experiments.sinkhorn_diagnostics.figures import plt, save_figure, styled
from tracker.perm import hungarian
from tracker.perm.metrics import perm_to_indices

CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]])
"""Drawing positions of the corners A, B, C."""


def barycentric_grid(resolution: int) -> np.ndarray:
    """All (a, b, c) with a + b + c = 1 on a grid of ``resolution`` points per side: (P, 3)."""
    steps = resolution - 1
    i, j = np.meshgrid(np.arange(resolution), np.arange(resolution), indexing="ij")
    keep = (i + j) <= steps
    i, j = i[keep], j[keep]
    return np.stack([i, j, steps - i - j], axis=1) / steps


def outcome_labels(outcomes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number the distinct outcomes by decreasing area.

    Args:
        outcomes: (P, D) integer outcome per grid point (a permutation's indices, or an index).

    Returns:
        (labels (P,), distinct outcomes (U, D) in label order, points per outcome (U,)).
    """
    unique, inverse, counts = np.unique(outcomes, axis=0, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], unique[order], counts[order]


def run_lengths(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P,) labels -> (values (R,), lengths (R,)) of its runs; :func:`expand_runs` inverts it."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    return labels[starts], np.diff(np.r_[starts, len(labels)])


def expand_runs(values: list[int], lengths: list[int]) -> np.ndarray:
    """Inverse of :func:`run_lengths`."""
    return np.repeat(np.asarray(values, dtype=np.int64), lengths)


def panel(kind: str, outcomes: np.ndarray) -> dict:
    """One panel: its distinct outcomes with their areas, and the per-point labels as runs."""
    labels, distinct, counts = outcome_labels(outcomes)
    values, lengths = run_lengths(labels)
    return {
        "kind": kind,
        "distinct": len(counts),
        "outcomes": distinct.tolist(),
        "points_per_outcome": counts.tolist(),
        "label_runs": {"values": values.tolist(), "lengths": lengths.tolist()},
    }


def measure(config: LandscapesConfig, seed: int) -> dict:
    """Winners over the barycentric grid for every configured size, Hungarian and argmax."""
    rng = np.random.default_rng(seed)
    weights = barycentric_grid(config.resolution)
    panels = []
    for n in config.sizes:
        corners = np.abs(rng.standard_normal((3, n, n)))
        scores = torch.from_numpy(np.einsum("pk,kij->pij", weights, corners))
        permutations = perm_to_indices(hungarian(scores)).numpy()
        panels.append({"n": n, **panel(f"Hungarian, {n}x{n}", permutations)})
        argmax = scores.flatten(1).argmax(dim=1, keepdim=True).numpy()
        panels.append({"n": n, **panel(f"argmax, {n * n} dims", argmax)})
    return {"resolution": config.resolution, "points": len(weights), "panels": panels}


def categorical_colours(count: int) -> ListedColormap:
    """``count`` distinguishable colours: tab10, the light half of tab20, tab20b, repeated."""
    palette = np.concatenate(
        [
            plt.get_cmap("tab10").colors,
            plt.get_cmap("tab20").colors[1::2],
            plt.get_cmap("tab20b").colors,
        ]
    )
    return ListedColormap(palette[np.arange(count) % len(palette)])


@styled
def draw(result: dict, out: Path) -> list[Path]:
    """A grid of triangles (rows: sizes; columns: Hungarian, argmax), one colour per outcome."""
    weights = barycentric_grid(result["resolution"])
    xy = weights @ CORNERS
    triangulation = mtri.Triangulation(xy[:, 0], xy[:, 1])
    panels = result["panels"]
    rows = len(panels) // 2
    figure, axes = plt.subplots(rows, 2, figsize=(9.0, 3.9 * rows), squeeze=False)
    for ax, entry in zip(axes.ravel(), panels, strict=True):
        labels = expand_runs(entry["label_runs"]["values"], entry["label_runs"]["lengths"])
        face_labels = labels[triangulation.triangles].min(axis=1)
        colours = categorical_colours(entry["distinct"])
        ax.tripcolor(
            triangulation,
            facecolors=face_labels.astype(float),
            cmap=colours,
            vmin=-0.5,
            vmax=entry["distinct"] - 0.5,
        )
        for name, (x, y), offset in zip(
            "ABC", CORNERS, ((-0.05, -0.05), (0.05, -0.05), (0, 0.04)), strict=True
        ):
            ax.text(x + offset[0], y + offset[1], name, ha="center", va="center", fontsize=11)
        ax.set_aspect("equal")
        ax.axis("off")
        noun = "permutations" if entry["kind"].startswith("Hungarian") else "indices"
        ax.set_title(f"{entry['kind']}: {entry['distinct']} distinct {noun}")
    figure.suptitle(
        f"Winner over X = a A + b B + c C, A, B, C ~ |N(0,1)|, {result['points']} grid points "
        f"({result['resolution']} per side); one colour per outcome",
        y=1.0,
    )
    return [save_figure(figure, out / "landscapes.png")]
