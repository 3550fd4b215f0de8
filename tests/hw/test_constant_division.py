import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from hw.constant_division import divide, reciprocal


@pytest.mark.parametrize("divisor, max_value", [(3, 1000), (7, 5000), (28, 783), (34, 2311), (3136, 50_000)])
def test_the_reciprocal_divides_every_value_in_range(divisor, max_value):
    multiplier, shift = reciprocal(divisor, max_value)
    assert all((v * multiplier) >> shift == v // divisor for v in range(max_value + 1))


@pytest.mark.parametrize("divisor, max_value", [(1, 9), (4, 63), (5, 99), (12, 400)])
def test_the_circuit_gives_quotient_and_remainder(divisor, max_value):
    value = Signal(range(max_value + 1))
    quotient, remainder = divide(value, divisor, max_value)
    q, r = Signal(16), Signal(16)
    m = Module()
    m.d.comb += [q.eq(quotient), r.eq(remainder)]
    seen = []

    async def bench(ctx):
        for v in range(max_value + 1):
            ctx.set(value, v)
            seen.append((v, ctx.get(q), ctx.get(r)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(v, v // divisor, v % divisor) for v in range(max_value + 1)]


def test_a_divisor_below_one_is_refused():
    with pytest.raises(ValueError, match="divisor must be a positive int"):
        reciprocal(0, 10)
