import gzip
import struct

import numpy as np
import pytest

from model.dataset import SHARED_DATASETS
from model.datasets import DatasetError, load_dataset, read_idx


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_idx_folder(folder, train=7, test=3):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (train, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, train))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (test, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, test))


def test_digits_ship_inside_scikit_learn_and_split_the_same_way_every_time():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.train_x.shape == (1437, 64) and a.test_x.shape == (360, 64)
    assert 0.0 <= a.train_x.min() and a.train_x.max() == 1.0
    np.testing.assert_array_equal(a.test_y, b.test_y)
    assert sorted(np.unique(a.test_y)) == list(range(10))


def test_idx_files_are_read_with_their_header_dimensions(tmp_path):
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", data)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), data)


def test_a_truncated_idx_file_is_an_error(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"abc")
    with pytest.raises(DatasetError, match="holds 3 values, its header says 10"):
        read_idx(path)


def test_an_explicit_path_comes_before_the_environment(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "explicit", train=5)
    make_idx_folder(tmp_path / "env" / "mnist", train=9)
    monkeypatch.setenv("SPIKEFAB_DATA", str(tmp_path / "env"))
    assert load_dataset("mnist", tmp_path / "explicit").train_x.shape == (5, 784)
    assert load_dataset("mnist").train_x.shape == (9, 784)


def test_a_missing_data_set_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr("model.dataset.SHARED_DATASETS", tmp_path / "none")
    monkeypatch.setitem(__import__("model.datasets").datasets.IDX_SYSTEM_LOCATIONS, "mnist", tmp_path / "none")
    monkeypatch.delenv("SPIKEFAB_DATA", raising=False)
    with pytest.raises(DatasetError, match="mnist not found .*Put the four MNIST IDX gz files"):
        load_dataset("mnist")


def test_unknown_data_set_names_the_choices():
    with pytest.raises(DatasetError, match="choose one of digits, mnist, fashion_mnist"):
        load_dataset("cifar")


@pytest.mark.skipif(not (SHARED_DATASETS / "mnist").is_dir(),
                    reason=f"MNIST not found: put the four IDX gz files in {SHARED_DATASETS / 'mnist'}")
def test_the_real_mnist_files_load():
    data = load_dataset("mnist")
    assert data.train_x.shape == (60000, 784) and data.test_x.shape == (10000, 784)
    assert np.bincount(data.test_y).tolist()[:2] == [980, 1135]  # the published class counts


def test_an_explicit_path_is_used_or_the_load_fails(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "env" / "mnist", train=9)
    monkeypatch.setenv("SPIKEFAB_DATA", str(tmp_path / "env"))
    with pytest.raises(DatasetError, match=r"not found in the given data path .*missing \(it does not exist\)"):
        load_dataset("mnist", tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"given data path .*empty \(it does not hold it\)"):
        load_dataset("mnist", tmp_path / "empty")


@pytest.mark.parametrize("split", ["train", "t10k"])
def test_a_label_out_of_range_names_its_file(tmp_path, split):
    make_idx_folder(tmp_path / "m")
    labels = np.array([1, 2, 12], dtype=np.uint8) if split == "t10k" else np.array([0] * 6 + [10], dtype=np.uint8)
    write_idx(tmp_path / "m" / f"{split}-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DatasetError, match=rf"{split}-labels-idx1-ubyte.gz: label 1[02] at position \d is not a class 0..9"):
        load_dataset("mnist", tmp_path / "m")


def test_images_of_the_wrong_size_name_their_file(tmp_path):
    make_idx_folder(tmp_path / "m")
    write_idx(tmp_path / "m" / "train-images-idx3-ubyte.gz", np.zeros((7, 27, 28), dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: images are \(27, 28\), not 28 x 28"):
        load_dataset("mnist", tmp_path / "m")


def test_images_and_labels_must_agree_in_count(tmp_path):
    make_idx_folder(tmp_path / "m", train=7)
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte.gz", np.zeros(6, dtype=np.uint8))
    with pytest.raises(DatasetError, match="7 train images but 6 labels"):
        load_dataset("mnist", tmp_path / "m")
