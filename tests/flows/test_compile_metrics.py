"""The compile step's weight-memory figure counts what the core stores: a convolution's kernel once."""

from flows.steps.compile import weight_memory_bits
from model.architecture import CoreArchitecture
from model.convolution import ConvShape
from network_factory import NetworkSpec, random_network


def test_a_convolution_stores_its_kernel_once_and_a_dense_layer_every_row():
    net = random_network(NetworkSpec(sizes=(48, 5), image=(2, 7, 6), weight_bits=4, seed=3,
                                     convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),)))
    # 3 lanes: the convolution uses 2 (a divisor of its 4 channels), 2 words per kernel row of 18 rows;
    # the dense layer's 48 rows hold 5 weights in 2 words of 3 lanes (one padding lane).
    assert weight_memory_bits(net, CoreArchitecture(lanes=3)) == 18 * 2 * 2 * 4 + 48 * 2 * 3 * 4
    dense = random_network(NetworkSpec(sizes=(84, 48, 5), weight_bits=4, seed=3))
    assert weight_memory_bits(dense, CoreArchitecture(lanes=4)) == 84 * 12 * 4 * 4 + 48 * 2 * 4 * 4
