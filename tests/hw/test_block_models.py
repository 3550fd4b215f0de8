"""Single blocks on Amaranth's simulator against small numpy models: a layer engine against the
reference's integer semantics, the on-chip rate encoder against its bit-exact model, and the SRAM
macro model against a plain array with a synchronous read and no read-during-write bypass."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.layer_engine import LayerEngine, LayerOp
from hw.rate_encoder import RateEncoderUnit
from hw.sram_macro import SramMacroModel, SramMacroShape
from model.architecture import MemoryStyle, RateEncoder
from model.compiled import Integration, Reset
from network_factory import NetworkSpec, random_network, random_spikes
from sim.rate_encoder import encode_on_chip
from sim.reference import ref_run


def simulate(dut, bench) -> None:
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


LAYERS = [
    NetworkSpec(sizes=(7, 5), timesteps=4, seed=1),
    NetworkSpec(sizes=(6, 4), timesteps=3, reset=Reset.ZERO, leak_shift=None, seed=2),
    NetworkSpec(sizes=(5, 6), timesteps=3, integration=Integration.DISCONTINUOUS, weight_bits=1, seed=3),
    # Narrow membranes that saturate, so the clamp after every addition is exercised.
    NetworkSpec(sizes=(8, 3), timesteps=4, weight_bits=6, membrane_bits=5, seed=4),
]


@pytest.mark.parametrize("memories", list(MemoryStyle), ids=lambda m: m.value)
@pytest.mark.parametrize("lanes", [1, 3, "all"])
@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: f"{s.sizes[0]}x{s.sizes[1]}-seed{s.seed}")
def test_a_layer_engine_fires_as_the_reference_does(spec, lanes, memories, monkeypatch):
    """Operations issued back to back, one per cycle, as the core issues them: INIT, then per timestep
    an INTEGRATE of every word for each input spike in ascending order, then an UPDATE of every word.
    A macro is a black box to Amaranth's simulator: its behavioural model (the one the generated
    Verilog carries for simulation) stands in, so the engine's own forwarding is what is tested."""
    monkeypatch.setattr("hw.layer_engine.SramMacroInstance", SramMacroModel)
    net = random_network(spec)
    layer = net.layers[0]
    lanes = layer.n_out if lanes == "all" else lanes
    spikes = random_spikes(net, 1, 0.5, spec.seed)
    expected = ref_run(net, spikes).spikes[0][0]  # (T, n_out)
    dut = LayerEngine(layer=layer, lanes=lanes, memories=memories)
    words = dut.words
    ops = [(LayerOp.INIT, 0, w) for w in range(words)]
    for t in range(net.timesteps):
        ops += [(LayerOp.INTEGRATE, i, w) for i in np.flatnonzero(spikes[0, t]) for w in range(words)]
        ops += [(LayerOp.UPDATE, 0, w) for w in range(words)]
    fired = []

    async def bench(ctx):
        for op, row, word in [*ops, (LayerOp.IDLE, 0, 0)]:
            ctx.set(dut.op, op)
            ctx.set(dut.row, int(row))
            ctx.set(dut.word, word)
            ctx.set(dut.group, word)  # a dense layer's row spans every membrane word
            await ctx.tick()
            if ctx.get(dut.fired_valid):
                fired.append((ctx.get(dut.fired_word), ctx.get(dut.fired)))

    simulate(dut, bench)
    got = np.zeros_like(expected)
    for k, (word, bits) in enumerate(fired):
        t = k // words
        for lane in range(lanes):
            if bits >> lane & 1:
                got[t, word * lanes + lane] = True
    assert len(fired) == net.timesteps * words
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("writable", [True, False])
def test_the_sram_macro_model_reads_synchronously_without_bypass(writable):
    rng = np.random.default_rng(5)
    depth, width = 6, 9
    init = tuple(int(v) for v in rng.integers(0, 1 << width, depth)) if not writable else ()
    dut = SramMacroModel(SramMacroShape(name="sram_test", width=width, depth=depth, init=init, writable=writable))
    contents = list(init) if init else [0] * depth
    expected, seen = [], []

    async def bench(ctx):
        data = 0
        for _ in range(120):
            read_en, read_addr = int(rng.integers(0, 2)), int(rng.integers(0, depth))
            ctx.set(dut.read_en, read_en)
            ctx.set(dut.read_addr, read_addr)
            if read_en:
                data = contents[read_addr]  # the word before this cycle's write: no bypass
            if writable:
                write_en, write_addr = int(rng.integers(0, 2)), int(rng.integers(0, depth))
                value = int(rng.integers(0, 1 << width))
                ctx.set(dut.write_en, write_en)
                ctx.set(dut.write_addr, write_addr)
                ctx.set(dut.write_data, value)
                if write_en:
                    contents[write_addr] = value
            await ctx.tick()
            expected.append(data)  # held while read_en is low
            seen.append(ctx.get(dut.read_data))

    simulate(dut, bench)
    assert seen == expected


@pytest.mark.parametrize("lanes, n_inputs", [(4, 10), (8, 8), (3, 7)])
def test_the_rate_encoder_draws_what_its_numpy_model_draws(lanes, n_inputs):
    encoder = RateEncoder(lanes=lanes, seed=3)
    timesteps, groups = 3, encoder.groups(n_inputs)
    rng = np.random.default_rng(lanes)
    images = rng.integers(0, 256, (2, n_inputs))
    expected = encode_on_chip(encoder, images, timesteps)
    dut = RateEncoderUnit(encoder=encoder, n_inputs=n_inputs)
    got = np.zeros_like(expected)

    async def bench(ctx):
        for image, pixels in enumerate(images):
            padded = np.zeros(groups * lanes, dtype=np.int64)
            padded[:n_inputs] = pixels
            ctx.set(dut.write_enable, 1)
            for g in range(groups):
                ctx.set(dut.write_group, g)
                ctx.set(dut.write_data, [int(v) for v in padded[g * lanes:(g + 1) * lanes]])
                await ctx.tick()
            ctx.set(dut.write_enable, 0)
            ctx.set(dut.draw, 1)
            for t in range(timesteps):
                for g in range(groups):
                    ctx.set(dut.group, g)
                    bits = ctx.get(dut.spikes)
                    for lane in range(lanes):
                        if g * lanes + lane < n_inputs:
                            got[image, t, g * lanes + lane] = bool(bits >> lane & 1)
                        else:
                            assert not bits >> lane & 1, "a lane past the last pixel never spikes"
                    await ctx.tick()
            ctx.set(dut.draw, 0)
            ctx.set(dut.restart, 1)  # every inference starts from the seeds
            await ctx.tick()
            ctx.set(dut.restart, 0)

    simulate(dut, bench)
    np.testing.assert_array_equal(got, expected)
