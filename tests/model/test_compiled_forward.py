"""The exported integers run through the QAT forward pass in torch agree with the reference exactly:
what quantization-aware training optimised is what the hardware computes."""

import numpy as np
import pytest

from model.export import compiled_forward
from network_factory import VARIED_SPECS, random_network, random_spikes
from sim.reference import ref_run


@pytest.mark.parametrize("spec", VARIED_SPECS, ids=lambda s: f"{'-'.join(map(str, s.sizes))}-w{s.weight_bits}-seed{s.seed}")
def test_reference_equals_the_quantized_torch_model(spec):
    net = random_network(spec)
    spikes = random_spikes(net, images=32, rate=0.4, seed=spec.seed)
    ref = ref_run(net, spikes)
    torch_out = compiled_forward(net, spikes)
    assert sum(int(s.sum()) for s in ref.spikes) > 0, "the test network never spikes; it would prove nothing"
    for k, layer_spikes in enumerate(ref.spikes):
        if net.layers[k].spiking:
            np.testing.assert_array_equal(torch_out.spikes[k].numpy().astype(bool), layer_spikes, err_msg=f"layer {k}")
    np.testing.assert_array_equal(torch_out.readout.numpy().astype(np.int64), ref.readout)
