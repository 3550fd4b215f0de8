import numpy as np
import pytest

from model.architecture import CoreArchitecture
from model.compiled import EarlyExit, Integration, Readout, Reset
from network_factory import NetworkSpec, random_network, random_spikes
from sim.cycles import memory_accesses, predict_cycles
from sim.reference import ref_run

def test_saturation_happens_after_every_addition_in_ascending_input_order():
    # One neuron, 4-bit membrane (-8..7), weights +5, +5, -6: ascending order saturates at 7 after the
    # second input, so the result is 7 - 6 = 1; summing first would give 4.
    from model.compiled import CompiledLayer, CompiledNetwork

    layer = CompiledLayer(weights=np.array([[5], [5], [-6]]), bias=np.array([0]), weight_bits=4, threshold=7,
                          leak_shift=None, reset=Reset.SUBTRACT, integration=Integration.CONTINUOUS,
                          membrane_bits=4, spiking=False)
    net = CompiledNetwork(layers=(layer,), timesteps=1, readout=Readout.MEMBRANE)
    assert net.can_saturate()
    result = ref_run(net, np.ones((1, 1, 3), dtype=bool))
    assert result.readout.tolist() == [[1]]


def test_early_exit_stops_at_the_margin_and_freezes_the_readout():
    spec = NetworkSpec(sizes=(12, 10, 4), timesteps=8, early_exit=EarlyExit(min_steps=2, margin=2), seed=7)
    net = random_network(spec)
    full = random_network(NetworkSpec(**{**spec.__dict__, "early_exit": None}))
    spikes = random_spikes(net, images=64, rate=0.5, seed=7)
    early, late = ref_run(net, spikes), ref_run(full, spikes)
    used = early.timesteps_used
    assert used.min() >= 2 and used.max() <= 8 and (used < 8).any(), "exercise both exits and full runs"
    for b in range(spikes.shape[0]):
        t = used[b]
        for k in range(len(net.layers)):
            np.testing.assert_array_equal(early.spikes[k][b, :t], late.spikes[k][b, :t])
            assert not early.spikes[k][b, t:].any()
        counts = late.spikes[-1][b, :t].sum(axis=0)
        np.testing.assert_array_equal(early.readout[b], counts)
        top = np.sort(counts)
        if t < 8:
            assert top[-1] - top[-2] >= 2
        assert early.predicted[b] == int(np.argmax(counts))


@pytest.mark.parametrize("lanes", [1, 3, 10])
def test_cycles_are_at_least_the_event_driven_lower_bound(lanes):
    net = random_network(NetworkSpec(sizes=(12, 10, 4), seed=8))
    result = ref_run(net, random_spikes(net, images=16, rate=0.3, seed=8))
    counts = predict_cycles(net, CoreArchitecture(lanes=lanes), result)
    words = [-(-10 // min(lanes, 10)), -(-4 // min(lanes, 4))]
    incoming = result.input_spikes.sum(axis=1) * words[0] + result.spikes[0].sum(axis=(1, 2)) * words[1]
    np.testing.assert_array_equal(counts.lower_bound, incoming)
    assert (counts.cycles > counts.lower_bound).all()
    np.testing.assert_array_equal(counts.synaptic_ops, result.input_spikes.sum(axis=1) * 10 +
                                  result.spikes[0].sum(axis=(1, 2)) * 4)


@pytest.mark.parametrize("shape, dtype, message", [((2, 3, 12), bool, r"shape \(images, 4, 12\)"),
                                                   ((2, 4, 12), np.int8, "must be bool")])
def test_wrong_input_shapes_and_types_are_refused(shape, dtype, message):
    net = random_network(NetworkSpec(sizes=(12, 4)))
    with pytest.raises(ValueError, match=message):
        ref_run(net, np.zeros(shape, dtype=dtype))


def test_memory_accesses_follow_the_operations_of_the_core():
    net = random_network(NetworkSpec(sizes=(20, 12, 5), timesteps=5, readout=Readout.MEMBRANE, weight_bits=6,
                                     early_exit=EarlyExit(min_steps=2, margin=10), seed=41))
    arch = CoreArchitecture(lanes=4, trace=False)
    result = ref_run(net, random_spikes(net, images=6, rate=0.4, seed=41))
    accesses = memory_accesses(net, arch, result)
    words = np.array(arch.words(net))
    # Integrating reads one weight word per spike and word: all together, the event-driven lower bound.
    assert np.array_equal(accesses.weight_reads.sum(axis=1), predict_cycles(net, arch, result).lower_bound)
    # A bias word per update pass (one per timestep run) and per initialising pass (one per inference).
    assert np.array_equal(accesses.bias_reads, (result.timesteps_used[:, None] + 1) * words[None, :])
    # Every operation reads and writes back one membrane word.
    assert np.array_equal(accesses.membrane_reads, accesses.weight_reads + accesses.bias_reads)
    assert np.array_equal(accesses.membrane_writes, accesses.membrane_reads)
    assert (result.timesteps_used < net.timesteps).any(), "no image exited early: the case proves less"


def test_a_spike_batch_reads_and_writes_each_membrane_word_once_per_batch():
    net = random_network(NetworkSpec(sizes=(20, 12, 5), timesteps=5, seed=42))
    spikes = random_spikes(net, images=6, rate=0.5, seed=42)
    result = ref_run(net, spikes)
    single = CoreArchitecture(lanes=4, trace=False)
    batched = CoreArchitecture(lanes=4, trace=False, spike_batch=3)
    one, three = memory_accesses(net, single, result), memory_accesses(net, batched, result)
    words = np.array(single.words(net))
    # Weights and biases are read as often either way; the membranes once per batch of up to 3 spikes.
    assert np.array_equal(three.weight_reads, one.weight_reads)
    assert np.array_equal(three.bias_reads, one.bias_reads)
    spikes_in = result.incoming_taps.sum(axis=1)  # (B, L), every step run (no early exit)
    batches = (-(-result.incoming_taps // 3)).sum(axis=1)
    assert np.array_equal(three.membrane_reads - three.bias_reads, batches * words[None, :])
    assert np.array_equal(one.membrane_reads - one.bias_reads, spikes_in * words[None, :])
    assert (batches < spikes_in).all(), "some layer got no more than one spike per batch: the case proves less"
    # Taking each spike into the batch costs one cycle more.
    cycles_one, cycles_three = predict_cycles(net, single, result), predict_cycles(net, batched, result)
    assert np.array_equal(cycles_three.cycles - cycles_one.cycles, spikes_in.sum(axis=1))
