"""The spike batch and operand isolation as architecture parameters: validation, which layers batch,
and what the datasheet says of them (their exactness is tests/sim/test_rtl_vs_reference.py's)."""

import pytest

from hw.datasheet import datasheet_markdown
from model.architecture import CoreArchitecture
from model.convolution import ConvShape
from network_factory import NetworkSpec, random_network


@pytest.mark.parametrize("batch, error", [(0, ValueError), (5000, ValueError), (True, TypeError), (2.0, TypeError)])
def test_bad_spike_batches_are_refused(batch, error):
    with pytest.raises(error, match="spike_batch"):
        CoreArchitecture(spike_batch=batch)


def test_operand_isolation_must_be_a_bool():
    with pytest.raises(TypeError, match="operand_isolation"):
        CoreArchitecture(operand_isolation=1)


def test_only_dense_layers_batch_and_the_datasheet_counts_the_batch_cycles():
    net = random_network(NetworkSpec(sizes=(48, 7, 3), image=(2, 7, 6), seed=47,
                                     convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),)))
    arch = CoreArchitecture(lanes=3, spike_batch=5, operand_isolation=True)
    assert [arch.spike_batch_of(layer) for layer in net.layers] == [1, 5, 5]
    sheet = datasheet_markdown(net, arch)
    assert "a spike batch of 5, with operand isolation" in sheet
    assert "layers 1, 2 take their input spikes into a batch of up to 5, one cycle per spike (+ R_l)" in sheet
    plain = datasheet_markdown(net, CoreArchitecture(lanes=3))
    assert "without operand isolation" in plain and "take their input spikes into a batch" not in plain
    # The cycle prediction counts the batch (sim/cycles.py); the architecture keys cycles on it.
    assert arch.cycle_relevant().spike_batch == 5
