import dataclasses
import json
import zipfile

import numpy as np
import pytest

from model.compiled import (CompiledLayer, CompiledNetwork, CompiledNetworkError, EarlyExit, Encoding, Integration,
                            Readout, Reset)
from network_factory import NetworkSpec, random_network


def layer(weights, *, bits=4, spiking=True, integration=Integration.CONTINUOUS, membrane_bits=12):
    weights = np.asarray(weights)
    return CompiledLayer(weights=weights, bias=np.zeros(weights.shape[1], dtype=int), weight_bits=bits, threshold=3,
                         leak_shift=None, reset=Reset.SUBTRACT, integration=integration,
                         membrane_bits=membrane_bits, spiking=spiking)


def test_save_and_load_give_the_same_network(tmp_path):
    net = random_network(NetworkSpec(sizes=(6, 5, 3), early_exit=EarlyExit(min_steps=2, margin=1), seed=3))
    loaded = CompiledNetwork.load(net.save(tmp_path / "net.npz"))
    assert loaded.timesteps == net.timesteps and loaded.readout is net.readout and loaded.early_exit == net.early_exit
    for a, b in zip(loaded.layers, net.layers):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
        assert (a.threshold, a.leak_shift, a.reset, a.membrane_bits) == (b.threshold, b.leak_shift, b.reset,
                                                                        b.membrane_bits)


@pytest.mark.parametrize("bits, value", [(4, 8), (4, -9), (8, 128), (1, 0)])
def test_a_weight_that_does_not_fit_its_bits_is_refused(bits, value):
    weights = np.zeros((2, 2), dtype=int) + (1 if bits == 1 else 0)
    weights[1, 0] = value
    with pytest.raises(CompiledNetworkError, match=rf"weight \[1, 0\] = {value} does not fit {bits} bits"):
        layer(weights, bits=bits)


def rewrite_meta(path, **changes):
    """Edit the JSON header of a saved network in place."""
    with np.load(path) as f:
        arrays = {name: f[name] for name in f.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta.update(changes)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def test_a_file_of_another_format_version_is_refused(tmp_path):
    path = random_network(NetworkSpec(sizes=(4, 3))).save(tmp_path / "net.npz")
    rewrite_meta(path, format_version=99)
    with pytest.raises(CompiledNetworkError, match="format version 99.*re-export"):
        CompiledNetwork.load(path)


@pytest.mark.parametrize("encoding", list(Encoding)[:-1])
def test_the_input_code_survives_the_file(tmp_path, encoding):
    net = random_network(NetworkSpec(sizes=(4, 3)))
    path = dataclasses.replace(net, encoding=encoding).save(tmp_path / "net.npz")
    assert CompiledNetwork.load(path).encoding is encoding


def test_a_version_1_file_loads_with_its_input_code_unrecorded(tmp_path):
    # Version 1 wrote "rate" whatever the code was.
    path = random_network(NetworkSpec(sizes=(4, 3))).save(tmp_path / "net.npz")
    rewrite_meta(path, format_version=1, encoding="rate")
    assert CompiledNetwork.load(path).encoding is Encoding.UNRECORDED


@pytest.mark.parametrize("field, value, message", [("spiking", "false", "spiking must be true or false"),
                                                   ("threshold", True, "threshold must be 1..")])
def test_a_layer_field_of_the_wrong_type_is_refused(tmp_path, field, value, message):
    path = random_network(NetworkSpec(sizes=(4, 3))).save(tmp_path / "net.npz")
    with np.load(path) as f:
        meta = json.loads(f["meta"].tobytes())
    meta["layers"][0][field] = value
    rewrite_meta(path, layers=meta["layers"])
    with pytest.raises(CompiledNetworkError, match=message):
        CompiledNetwork.load(path)


def test_a_truncated_file_is_reported_as_corrupted(tmp_path):
    path = random_network(NetworkSpec(sizes=(4, 3))).save(tmp_path / "net.npz")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CompiledNetworkError, match="corrupted or truncated"):
        CompiledNetwork.load(path)


def test_a_file_that_is_not_a_network_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.frombuffer(b'{"magic": "something else"}', dtype=np.uint8))
    with pytest.raises(CompiledNetworkError, match="no spikefab header"):
        CompiledNetwork.load(path)
    assert zipfile.is_zipfile(path)


def test_layers_must_chain():
    with pytest.raises(CompiledNetworkError, match="layer 1 takes 4 inputs but layer 0 has 3 neurons"):
        CompiledNetwork(layers=(layer(np.ones((2, 3), int)), layer(np.ones((4, 2), int))), timesteps=2,
                        readout=Readout.SPIKE_COUNT)


def test_only_the_output_layer_may_be_non_spiking():
    with pytest.raises(CompiledNetworkError, match="layer 0 is hidden and must spike"):
        CompiledNetwork(layers=(layer(np.ones((2, 3), int), spiking=False), layer(np.ones((3, 2), int))),
                        timesteps=2, readout=Readout.SPIKE_COUNT)


def test_a_membrane_readout_needs_a_continuous_accumulator():
    with pytest.raises(CompiledNetworkError, match="must integrate continuously"):
        layer(np.ones((2, 3), int), spiking=False, integration=Integration.DISCONTINUOUS)


@pytest.mark.parametrize("leak_shift", [None, 1, 3])
@pytest.mark.parametrize("timesteps", [1, 4, 16])
def test_membranes_are_sized_to_the_fewest_bits_that_cannot_saturate(leak_shift, timesteps):
    net = random_network(NetworkSpec(sizes=(20, 8), weight_bits=6, leak_shift=leak_shift, timesteps=timesteps))
    sized = net.layers[0]
    assert not sized.can_saturate(timesteps)
    narrower = CompiledLayer(weights=sized.weights, bias=sized.bias, weight_bits=6, threshold=sized.threshold,
                             leak_shift=leak_shift, reset=sized.reset, integration=sized.integration,
                             membrane_bits=sized.membrane_bits - 1)
    assert narrower.can_saturate(timesteps)


@pytest.mark.parametrize("integration, leak_shift", [(Integration.CONTINUOUS, 2), (Integration.CONTINUOUS, None),
                                                     (Integration.DISCONTINUOUS, None)])
def test_subtracting_after_the_leak_stays_inside_the_sized_membrane(integration, leak_shift):
    """With only excitatory weights the membrane goes below 0 only by the reset after the leak: the
    sizing rule must allow for it, and the reference's membranes must stay inside what it allows."""
    from model.compiled import sized_layer, signed_range
    from sim.reference import fire_and_reset, integrate, start_of_step

    rng = np.random.default_rng(5)
    timesteps = 12
    sized = sized_layer(weights=rng.integers(0, 8, (6, 4)), bias=np.zeros(4, dtype=int), weight_bits=4, threshold=13,
                        timesteps=timesteps, leak_shift=leak_shift, reset=Reset.SUBTRACT_AFTER_LEAK,
                        integration=integration)
    low, high = sized.membrane_bound(timesteps)
    drop = {None: 0, 2: 13 >> 2}[leak_shift] if integration is Integration.CONTINUOUS else 13
    assert low == -drop and not sized.can_saturate(timesteps)
    v, fired, lowest = np.zeros((500, 4), dtype=np.int64), np.zeros((500, 4), dtype=bool), 0
    for _ in range(timesteps):
        start = start_of_step(sized, v, fired)
        lowest = min(lowest, int(start.min()))
        fired, v = fire_and_reset(sized, integrate(sized, start, rng.random((500, 6)) < 0.5, exact_sum=False))
    assert lowest >= low and (lowest < 0) == (drop > 0)
    assert signed_range(sized.membrane_bits)[0] <= low
