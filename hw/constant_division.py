"""Division of an unsigned value by a constant, as a multiply and a shift: floor(v / d) = (v * m) >> s
for every v in 0..max_value, with m and s chosen (and checked for every such v) when the core is
built. A power of two is a bit slice. No divider is built."""

from __future__ import annotations

import numpy as np
from amaranth import Value


def reciprocal(divisor: int, max_value: int) -> tuple[int, int]:
    """(m, s) with floor(v / divisor) == (v * m) >> s for all 0 <= v <= max_value."""
    if not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f"divisor must be a positive int, not {divisor!r}")
    if not isinstance(max_value, int) or max_value < 0:
        raise ValueError(f"max_value must be a non-negative int, not {max_value!r}")
    values = np.arange(max_value + 1, dtype=object)
    shift = max(1, max_value.bit_length())
    while True:
        multiplier = -(-(1 << shift) // divisor)
        # m = ceil(2^s / d) is exact on 0..max_value once its error (m d - 2^s) stays below 2^s / max_value.
        if (multiplier * divisor - (1 << shift)) * max_value < (1 << shift):
            if np.array_equal((values * multiplier) >> shift, values // divisor):
                return multiplier, shift
        shift += 1


def divide(value: Value, divisor: int, max_value: int) -> tuple[Value, Value]:
    """(quotient, remainder) of an unsigned `value` (at most max_value) by the constant `divisor`."""
    if divisor & (divisor - 1) == 0:
        bits = divisor.bit_length() - 1
        return value >> bits, value & (divisor - 1)
    multiplier, shift = reciprocal(divisor, max_value)
    width = max(1, max_value.bit_length())
    quotient = ((value[:width] * multiplier) >> shift)[:width]
    return quotient, (value - quotient * divisor)[:max(1, (divisor - 1).bit_length())]
