"""MNIST in the standard IDX format: a validating reader and a checksummed fetcher.

The four files (``train-images-idx3-ubyte`` etc.) are read from a folder, each either gzip
compressed (``.gz``, as distributed) or raw. Every header field is checked: the magic number
(2051 for images, 2049 for labels), the number of dimensions, 28 x 28 pixels, and that the
payload holds exactly the announced number of bytes. Anything else is an :class:`InputError`
with one line naming the file and the problem.

IDX layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the
number of dimensions d, then d uint32 sizes, then the data in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.errors import InputError

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
IMAGE_SIDE = 28
NUM_CLASSES = 10

# split -> (images file, labels file), names as in the official distribution (without ".gz").
SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# MD5 checksums of the official .gz files, as published with torchvision's MNIST dataset.
OFFICIAL_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


@dataclass(frozen=True)
class MnistSplit:
    """One MNIST split.

    images: (n, 28, 28) uint8, 0 = background, 255 = ink.
    labels: (n,) uint8 digit classes 0..9.
    """

    images: np.ndarray
    labels: np.ndarray


def find_idx_file(data_dir: str | os.PathLike, name: str) -> Path:
    """The path of IDX file ``name`` in ``data_dir``: ``name.gz`` if present, else raw ``name``."""
    folder = Path(data_dir)
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    raise InputError(
        f"MNIST file {name}(.gz) not found in {folder}; put the four IDX files there "
        f"or run: hste data fetch-mnist --data-dir {folder}"
    )


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: damaged or truncated gzip data ({error})") from None


def read_idx(path: str | os.PathLike, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Read an unsigned-byte IDX file (gzip or raw) and check its header.

    Args:
        path: the file.
        magic: the expected magic number (2051 images, 2049 labels).
        item_shape: the expected sizes after the count, e.g. (28, 28) for images, () for labels.

    Returns:
        uint8 array of shape (count, *item_shape).

    Raises:
        InputError: wrong magic, dimensions or sizes, or a payload shorter or longer than the
            header announces.
    """
    path = Path(path)
    data = _read_bytes(path)
    ndim = 1 + len(item_shape)
    header_len = 4 + 4 * ndim
    if len(data) < 4:
        raise InputError(f"{path}: {len(data)} bytes, too short for an IDX header")
    found_magic = int.from_bytes(data[:4], "big")
    if found_magic != magic:
        raise InputError(f"{path}: IDX magic number {found_magic}, expected {magic}")
    if len(data) < header_len:
        raise InputError(f"{path}: truncated IDX header ({len(data)} of {header_len} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(data[4:header_len], dtype=">u4"))
    if dims[1:] != item_shape:
        raise InputError(f"{path}: item size {dims[1:]}, expected {item_shape}")
    expected = header_len + int(np.prod(dims))
    if len(data) != expected:
        raise InputError(
            f"{path}: {len(data)} bytes, the header announces {expected} "
            f"({dims[0]} items of size {item_shape})"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims).copy()


def load_split(data_dir: str | os.PathLike, split: str) -> MnistSplit:
    """Load the ``"train"`` (60,000) or ``"test"`` (10,000) split from ``data_dir``.

    Raises:
        InputError: a file missing or invalid, image and label counts differing, or a label
            outside 0..9.
    """
    if split not in SPLIT_FILES:
        raise InputError(f"unknown MNIST split {split!r}; choose one of {sorted(SPLIT_FILES)}")
    image_name, label_name = SPLIT_FILES[split]
    image_path = find_idx_file(data_dir, image_name)
    label_path = find_idx_file(data_dir, label_name)
    images = read_idx(image_path, IMAGE_MAGIC, (IMAGE_SIDE, IMAGE_SIDE))
    labels = read_idx(label_path, LABEL_MAGIC, ())
    if len(images) != len(labels):
        raise InputError(
            f"{image_path} holds {len(images)} images but {label_path} {len(labels)} labels"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise InputError(f"{label_path}: label {labels.max()} outside 0..{NUM_CLASSES - 1}")
    return MnistSplit(images=images, labels=labels)


def md5_of(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file's bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, target: Path, md5: str, timeout_s: float) -> None:
    """Download ``url`` onto ``target`` atomically; raise OSError on a network or checksum fault."""
    with atomic_path(target) as tmp:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(tmp, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        found = md5_of(tmp)
        if found != md5:
            raise OSError(f"checksum mismatch for {url}: md5 {found}, expected {md5}")


def fetch_mnist(
    data_dir: str | os.PathLike,
    mirrors: tuple[str, ...] | None = None,
    timeout_s: float = 30.0,
) -> list[Path]:
    """Download the four official MNIST .gz files into ``data_dir`` (checksummed, atomic).

    A file already present with a valid IDX content is kept. Each file is tried on every mirror
    (default :data:`MIRRORS`) in turn; it lands at its final name only after its MD5 matched.

    Returns:
        The paths of the four files.

    Raises:
        InputError: no mirror delivered a file (for example without internet access); the
            message says where to put the files by hand.
    """
    folder = Path(data_dir)
    paths = []
    for split in SPLIT_FILES:
        for name, magic, item_shape in zip(
            SPLIT_FILES[split],
            (IMAGE_MAGIC, LABEL_MAGIC),
            ((IMAGE_SIDE, IMAGE_SIDE), ()),
            strict=True,
        ):
            target = folder / f"{name}.gz"
            if not target.is_file():
                _fetch_one(f"{name}.gz", target, MIRRORS if mirrors is None else mirrors, timeout_s)
            read_idx(target, magic, item_shape)
            paths.append(target)
    return paths


def _fetch_one(file_name: str, target: Path, mirrors: tuple[str, ...], timeout_s: float) -> None:
    faults = []
    for mirror in mirrors:
        try:
            _download(mirror + file_name, target, OFFICIAL_MD5[file_name], timeout_s)
            return
        except (OSError, http.client.HTTPException) as error:
            faults.append(f"{mirror}: {getattr(error, 'reason', error)}")
    raise InputError(
        f"could not download {file_name} ({'; '.join(faults)}); without internet access, copy "
        f"the four MNIST IDX files (train/t10k images/labels, .gz or raw) into {target.parent}"
    )
