"""Data sets the experiments read (MNIST in IDX format), with validation and fetching."""

from tracker.data.mnist import MnistSplit, fetch_mnist, load_split, read_idx

__all__ = ["MnistSplit", "fetch_mnist", "load_split", "read_idx"]
