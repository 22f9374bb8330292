"""The MNIST IDX reader and fetcher, on tiny IDX files built here (never the real data)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from common.errors import InputError
from experiments.mnist import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    OFFICIAL_MD5,
    fetch_mnist,
    load_split,
    md5_of,
    read_idx,
)
from tracker.cli import main

SHARED_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: magic, sizes (big-endian uint32), data."""
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_split(folder: Path, n: int, prefix: str = "train", compress: bool = True,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write an n-image split (images and labels) into ``folder``; return the arrays."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    for name, magic, array in (
        (f"{prefix}-images-idx3-ubyte", IMAGE_MAGIC, images),
        (f"{prefix}-labels-idx1-ubyte", LABEL_MAGIC, labels),
    ):
        data = idx_bytes(magic, array)
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_load_split_round_trips_gzip_and_raw(tmp_path, compress):
    images, labels = write_split(tmp_path, 7, "t10k", compress=compress)
    split = load_split(tmp_path, "test")
    assert split.images.dtype == np.uint8 and split.images.shape == (7, 28, 28)
    np.testing.assert_array_equal(split.images, images)
    np.testing.assert_array_equal(split.labels, labels)


def test_wrong_magic_is_one_line_input_error(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(LABEL_MAGIC, np.zeros(3, np.uint8)))
    with pytest.raises(InputError, match="magic number 2049, expected 2051") as info:
        read_idx(path, IMAGE_MAGIC, (28, 28))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (idx_bytes(IMAGE_MAGIC, np.zeros((2, 28, 28), np.uint8))[:-1], "header announces"),
        (idx_bytes(IMAGE_MAGIC, np.zeros((2, 28, 28), np.uint8)) + b"\0", "header announces"),
        (idx_bytes(IMAGE_MAGIC, np.zeros((2, 27, 28), np.uint8)), r"item size \(27, 28\)"),
        (struct.pack(">I", IMAGE_MAGIC) + b"\0\0\0\2", "truncated IDX header"),
        (b"\0\0", "too short"),
        (gzip.compress(b"\0\0\x08\x03" + b"\0" * 100)[:-9], "damaged or truncated gzip"),
    ],
)
def test_truncated_or_foreign_files_are_rejected(tmp_path, payload, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(InputError, match=message):
        read_idx(path, IMAGE_MAGIC, (28, 28))


def test_count_mismatch_between_images_and_labels(tmp_path):
    write_split(tmp_path, 4)
    labels = idx_bytes(LABEL_MAGIC, np.zeros(3, np.uint8))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(InputError, match="4 images but .* 3 labels"):
        load_split(tmp_path, "train")


def test_label_out_of_range(tmp_path):
    write_split(tmp_path, 2)
    labels = idx_bytes(LABEL_MAGIC, np.array([3, 10], np.uint8))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(InputError, match="label 10 outside 0..9"):
        load_split(tmp_path, "train")


def test_missing_file_names_the_folder_and_the_fetch_command(tmp_path):
    with pytest.raises(InputError, match="fetch-mnist --data-dir"):
        load_split(tmp_path, "train")


def test_fetch_downloads_checks_md5_and_keeps_valid_files(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_split(mirror, 3, "train")
    write_split(mirror, 2, "t10k")
    checksums = {name: md5_of(mirror / name) for name in OFFICIAL_MD5}
    monkeypatch.setattr("experiments.mnist.OFFICIAL_MD5", checksums)
    target = tmp_path / "data"
    paths = fetch_mnist(target, mirrors=("file:///nowhere/", mirror.as_uri() + "/"))
    assert sorted(p.name for p in paths) == sorted(OFFICIAL_MD5)
    assert load_split(target, "train").images.shape == (3, 28, 28)
    assert not [p for p in target.iterdir() if p.name.startswith(".")]
    fetch_mnist(target, mirrors=())  # everything present: no download needed


def test_fetch_rejects_a_checksum_mismatch_without_leaving_a_file(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_split(mirror, 3, "train")
    monkeypatch.setattr("experiments.mnist.OFFICIAL_MD5", dict.fromkeys(OFFICIAL_MD5, "0" * 32))
    target = tmp_path / "data"
    with pytest.raises(InputError, match="checksum mismatch"):
        fetch_mnist(target, mirrors=(mirror.as_uri() + "/",))
    assert list(target.iterdir()) == []


def test_cli_fetch_offline_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setattr("experiments.mnist.MIRRORS", ("file:///nowhere/",))
    result = CliRunner().invoke(main, ["data", "fetch-mnist", "--data-dir", str(tmp_path / "m")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "copy the four MNIST IDX files" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no MNIST copy at ../shared/data/mnist")
def test_real_mnist_counts():
    train, test = load_split(SHARED_MNIST, "train"), load_split(SHARED_MNIST, "test")
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                 974, 1009]
