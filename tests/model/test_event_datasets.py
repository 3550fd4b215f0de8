"""N-MNIST: the .bs2 event format decoded, events binned into spike frames, the subset loaded."""

import numpy as np
import torch
import pytest

from model.dataset import SHARED_DATASETS
from model.datasets import DatasetError, load_dataset
from model.event_datasets import NMNIST_DURATION_US, NMNIST_INPUTS, NMNIST_SIDE, bin_events, read_bs2

NMNIST = SHARED_DATASETS / "nmnist-small"
needs_nmnist = pytest.mark.skipif(not (NMNIST / "train1K.txt").is_file(),
                                  reason=f"N-MNIST subset not found: put the .bs2 files and label lists in {NMNIST}")


def write_events(path, events):
    """events: (x, y, polarity, timestamp_us) rows, written in the N-MNIST byte layout."""
    out = bytearray()
    for x, y, polarity, timestamp in events:
        word = polarity << 23 | timestamp
        out += bytes([x, y, word >> 16, word >> 8 & 0xFF, word & 0xFF])
    path.write_bytes(bytes(out))


def test_events_decode_from_the_byte_layout(tmp_path):
    written = [(3, 30, 1, 893), (33, 0, 0, 8_388_607), (0, 5, 1, 150_000)]
    write_events(tmp_path / "1.bs2", written)
    assert read_bs2(tmp_path / "1.bs2").tolist() == [list(e) for e in written]


def test_events_bin_into_slices_of_the_recording():
    events = np.array([[1, 2, 0, 0], [1, 2, 0, 10], [4, 0, 1, NMNIST_DURATION_US // 2], [0, 0, 0, 10**7]])
    frames = bin_events(events, 4)
    assert frames.shape == (4, NMNIST_INPUTS) and frames.sum() == 3, "two events of one input in one slice: one spike"
    # Channel-last: (y * 34 + x) * 2 + polarity.
    assert frames[0, (2 * NMNIST_SIDE + 1) * 2] and frames[2, 4 * 2 + 1]
    assert frames[3, 0], "events after the recording's duration go in the last slice"


def test_a_malformed_event_file_is_named(tmp_path):
    (tmp_path / "7.bs2").write_bytes(b"\x01\x02\x03")
    with pytest.raises(DatasetError, match="7.bs2 is not an N-MNIST event file"):
        read_bs2(tmp_path / "7.bs2")


def test_event_data_needs_its_timesteps():
    with pytest.raises(ValueError, match="give the timesteps"):
        load_dataset("nmnist")


@needs_nmnist
def test_the_subset_loads_as_spike_frames():
    data = load_dataset("nmnist", timesteps=6)
    assert data.train_x.shape == (1000, 6, NMNIST_INPUTS) and data.test_x.shape == (100, 6, NMNIST_INPUTS)
    assert set(np.unique(data.train_x)) == {0.0, 1.0} and 0.01 < data.train_x.mean() < 0.3
    assert sorted(set(data.train_y.tolist())) == list(range(10)) and data.n_features == NMNIST_INPUTS


@needs_nmnist
def test_a_network_learns_n_mnist_from_its_event_frames():
    from model.compiled import Readout
    from model.input_codes import EventFrames
    from model.network import SNNConfig, SpikingNetwork
    from model.train import TrainConfig, predict, train

    data = load_dataset("nmnist", timesteps=6)
    model = SpikingNetwork(config=SNNConfig(sizes=(NMNIST_INPUTS, 64, 10), timesteps=6, readout=Readout.MEMBRANE))
    train(model, data, TrainConfig(epochs=5, batch_size=32, input_code=EventFrames()))
    # Chance is 0.1; 100 test recordings.
    assert (predict(model, data.test_x) == data.test_y).mean() > 0.5
    with pytest.raises(ValueError, match="event frames must be"):
        EventFrames()(torch.tensor(data.test_x[:, 0]), 6, None)
