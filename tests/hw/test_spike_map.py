import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.spike_map import SpikeMap


@pytest.mark.parametrize("words, word_bits", [(1, 1), (3, 1), (5, 3), (7, 16), (12, 5)])
def test_spikes_come_out_lowest_first_and_each_once(words, word_bits):
    """Random words written, then every spike taken: the indices are the set bits in ascending order;
    a word rewritten midway replaces what it held."""
    rng = np.random.default_rng(words * 100 + word_bits)
    dut = SpikeMap(words=words, word_bits=word_bits)
    contents = [int(rng.integers(0, 1 << word_bits)) for _ in range(words)]
    rewrite_word, rewrite_bits = int(rng.integers(0, words)), int(rng.integers(0, 1 << word_bits))
    taken = []
    rewritten = []

    async def bench(ctx):
        for w, bits in enumerate(contents):
            ctx.set(dut.write, 1)
            ctx.set(dut.write_word, w)
            ctx.set(dut.write_bits, bits)
            await ctx.tick()
        ctx.set(dut.write, 0)
        # Take two spikes (when there are two), rewrite one word, then take the rest.
        for _ in range(2 * words * word_bits + 2):  # bounded: a map that never empties fails below
            if not ctx.get(dut.found):
                break
            if len(taken) == 2 and not rewritten:
                ctx.set(dut.take, 0)
                ctx.set(dut.write, 1)
                ctx.set(dut.write_word, rewrite_word)
                ctx.set(dut.write_bits, rewrite_bits)
                await ctx.tick()
                ctx.set(dut.write, 0)
                rewritten.append(True)
                continue
            taken.append(ctx.get(dut.index))
            ctx.set(dut.take, 1)
            await ctx.tick()
        ctx.set(dut.take, 0)
        assert not ctx.get(dut.found), "every spike taken empties the map"

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    flat = [w * word_bits + b for w, bits in enumerate(contents) for b in range(word_bits) if bits >> b & 1]
    assert taken[:2] == flat[:2]
    if not rewritten:
        assert taken == flat
        return
    # The rewritten word holds exactly its new bits, taken or not before.
    word = range(rewrite_word * word_bits, (rewrite_word + 1) * word_bits)
    rest = {i for i in flat[2:] if i not in word} | {i for i in word if rewrite_bits >> (i - word.start) & 1}
    assert taken[2:] == sorted(rest)


@pytest.mark.parametrize("words, word_bits", [(0, 4), (4, 0), (True, 4)])
def test_rejects_bad_sizes(words, word_bits):
    with pytest.raises(ValueError, match="must be a positive int"):
        SpikeMap(words=words, word_bits=word_bits)
