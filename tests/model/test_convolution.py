"""The convolution layer of the contract: its geometry against torch's conv2d, its file form, its checks."""

import json

import numpy as np
import pytest
import torch

from model.compiled import CompiledLayer, CompiledNetwork, CompiledNetworkError, Integration, Readout, Reset
from model.convolution import ConvGeometry, ConvGeometryError, ConvShape
from network_factory import NetworkSpec, random_network

GEOMETRIES = [  # (in_channels, height, width, out_channels, kernel, stride, padding)
    (1, 7, 5, 3, 3, 1, 1), (2, 9, 8, 4, 5, 2, 2), (3, 6, 6, 2, 2, 2, 0), (1, 28, 28, 8, 5, 2, 2), (2, 7, 9, 3, 3, 3, 0),
    (1, 11, 11, 2, 4, 2, 0),
]


def geometry(c, h, w, o, k, s, p) -> ConvGeometry:
    return ConvGeometry(in_channels=c, in_height=h, in_width=w, out_channels=o, kernel=k, stride=s, padding=p)


@pytest.mark.parametrize("shape", GEOMETRIES, ids=str)
def test_the_dense_matrix_computes_torchs_convolution_in_channel_last_order(shape):
    g = geometry(*shape)
    rng = np.random.default_rng(sum(shape))
    kernel = rng.integers(-5, 6, size=(g.out_channels, g.in_channels, g.kernel, g.kernel))  # torch's (O, C, K, K)
    image = rng.integers(0, 2, size=(g.in_channels, g.in_height, g.in_width))
    # The contract's weight row (ky * K + kx) * C_in + c, and its channel-last flat input and output.
    matrix = kernel.transpose(2, 3, 1, 0).reshape(g.taps, g.out_channels)
    ours = image.transpose(1, 2, 0).reshape(-1) @ g.dense(matrix)
    theirs = torch.nn.functional.conv2d(torch.tensor(image[None], dtype=torch.float64),
                                        torch.tensor(kernel, dtype=torch.float64), stride=g.stride, padding=g.padding)[0]
    assert theirs.shape == (g.out_channels, g.out_height, g.out_width)
    assert np.array_equal(ours, theirs.numpy().transpose(1, 2, 0).reshape(-1))


@pytest.mark.parametrize("shape", GEOMETRIES, ids=str)
def test_taps_and_output_windows_count_the_outputs_an_input_reaches(shape):
    g = geometry(*shape)
    reached = g.dense(np.ones((g.taps, g.out_channels), dtype=np.int64)) != 0
    assert np.array_equal(g.taps_per_input(), reached.sum(axis=1) // g.out_channels)
    for y in range(g.in_height):
        first, last = g.output_range(y, g.out_height)
        assert list(range(first, last + 1)) == [o for o in range(g.out_height) if 0 <= y + g.padding - o * g.stride < g.kernel]


def test_an_input_no_output_sees_has_no_taps():
    # 11 rows, kernel 4, stride 2: outputs see rows 0..9; row 10 reaches nothing.
    g = geometry(1, 11, 11, 2, 4, 2, 0)
    taps = g.taps_per_input().reshape(11, 11)
    assert (taps[10] == 0).all() and (taps[:, 10] == 0).all() and (taps[:10, :10] > 0).all()


@pytest.mark.parametrize("shape, message", [
    ((1, 5, 5, 2, 3, 1, 3), "padding must be 0..kernel-1"),
    ((1, 5, 5, 2, 3, 4, 0), "stride 4 exceeds the kernel 3"),
    ((1, 4, 9, 2, 7, 1, 1), "a 7x7 kernel does not fit a 4x9 input with padding 1"),
    ((0, 5, 5, 2, 3, 1, 0), "in_channels must be a positive int"),
])
def test_a_geometry_that_does_not_fit_is_refused(shape, message):
    with pytest.raises(ConvGeometryError, match=message):
        geometry(*shape)


def test_a_kernel_matrix_of_the_wrong_shape_is_refused():
    with pytest.raises(CompiledNetworkError, match=r"takes a \(18, 4\) weight matrix, not shape \(9, 4\)"):
        CompiledLayer(weights=np.ones((9, 4), dtype=int), bias=np.zeros(4, dtype=int), weight_bits=4, threshold=3,
                      leak_shift=None, reset=Reset.SUBTRACT, integration=Integration.CONTINUOUS, membrane_bits=12,
                      conv=geometry(2, 6, 6, 4, 3, 1, 0))


def test_a_convolutional_network_survives_its_file(tmp_path):
    net = random_network(NetworkSpec(sizes=(48, 5), image=(2, 7, 6), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),), seed=3))
    loaded = CompiledNetwork.load(net.save(tmp_path / "net.npz"))
    assert loaded.layers[0].conv == net.layers[0].conv and loaded.layers[1].conv is None
    assert loaded.layer_sizes == net.layer_sizes == (84, 48, 5)
    assert np.array_equal(loaded.layers[0].dense_weights, net.layers[0].dense_weights)


def test_a_malformed_convolution_in_a_file_names_the_problem(tmp_path):
    net = random_network(NetworkSpec(sizes=(48, 5), image=(2, 7, 6), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),), seed=3))
    path = net.save(tmp_path / "net.npz")
    with np.load(path) as f:
        arrays = {name: f[name] for name in f.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta["layers"][0]["conv"]["stride"] = 9
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(CompiledNetworkError, match="stride 9 exceeds the kernel 3"):
        CompiledNetwork.load(path)


def test_a_convolution_sized_for_its_fan_in_never_saturates():
    # The membrane bound covers the full kernel (an interior position): the reference's membranes stay inside.
    from sim.reference import integrate, start_of_step
    net = random_network(NetworkSpec(sizes=(), image=(3, 8, 8), convolutions=(ConvShape(out_channels=4, kernel=3, stride=1, padding=1),), timesteps=6,
                                     readout=Readout.MEMBRANE, leak_shift=None, weight_bits=6, seed=9))
    layer = net.layers[0]
    assert not layer.can_saturate(net.timesteps)
    v = np.zeros((1, layer.n_out), dtype=np.int64)
    everything = np.ones((1, layer.n_in), dtype=bool)
    for _ in range(net.timesteps):
        v = integrate(layer, start_of_step(layer, v, np.zeros_like(v, dtype=bool)), everything, exact_sum=True)
    lo, hi = layer.membrane_bound(net.timesteps)
    assert lo <= v.min() and v.max() <= hi and v.max() > hi // 2
