"""Randomized co-simulation: random networks, architectures and host behaviour, each reproducible from
the seed in its test id. 1,000 seeds in all; `make test` runs the first FAST_SEEDS, `make test-all` all."""

import pytest

from model.architecture import CoreArchitecture
from network_factory import random_cosim_case, random_inputs, random_network
from sim.rate_encoder import core_input_spikes
from sim.compare import compare_with_reference
from sim.rtl_run import rtl_run

TOTAL_SEEDS = 1000
FAST_SEEDS = 24

SEEDS = [pytest.param(s, marks=() if s < FAST_SEEDS else pytest.mark.slow, id=f"seed{s}") for s in range(TOTAL_SEEDS)]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_rtl_equals_reference(seed, tmp_path):
    case = random_cosim_case(seed)
    net = random_network(case.spec)
    lanes = min(case.lanes, max(layer.n_out for layer in net.layers))
    arch = CoreArchitecture(lanes=lanes, trace=True, encoder=case.encoder, memories=case.memories,
                            spike_batch=case.spike_batch, operand_isolation=case.operand_isolation)
    inputs = random_inputs(net, arch, images=case.images, rate=case.spike_rate, seed=seed)
    observation = rtl_run(net, arch, inputs, work_dir=tmp_path, seed=seed, gap_probability=case.gap_probability,
                          backpressure_probability=case.backpressure_probability)
    spikes = core_input_spikes(net, arch, inputs)
    comparison = compare_with_reference(net, arch, spikes, observation)
    assert comparison.first_mismatch is None, f"reproduce with seed {seed} ({case}): {comparison.first_mismatch}"
    assert comparison.mismatched_images == () and comparison.cycle_mismatches == 0
    assert observation.predicted.shape == (case.images,)
