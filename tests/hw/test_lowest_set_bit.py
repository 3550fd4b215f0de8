import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.lowest_set_bit import LowestSetBit


@pytest.mark.parametrize("width", [1, 2, 5, 16, 33])
def test_finds_the_lowest_set_bit(width):
    dut = LowestSetBit(width=width)
    rng = np.random.default_rng(width)
    values = [0, (1 << width) - 1, 1 << (width - 1)] + [int(rng.integers(0, 1 << width)) for _ in range(40)]
    seen = []

    async def bench(ctx):
        for value in values:
            ctx.set(dut.bits, value)
            seen.append((value, ctx.get(dut.found), ctx.get(dut.index)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    for value, found, index in seen:
        assert found == (value != 0)
        if value:
            assert index == (value & -value).bit_length() - 1, f"value {value:b}"


@pytest.mark.parametrize("width, error", [(0, ValueError), ("8", TypeError)])
def test_rejects_a_bad_width(width, error):
    with pytest.raises(error, match="width must be"):
        LowestSetBit(width=width)
