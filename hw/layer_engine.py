"""One layer's memories and its `lanes`-wide membrane datapath.

Every operation is a read-modify-write of one membrane word, issued in one cycle (memory reads) and
completed in the next (arithmetic and write-back), so one word is updated per cycle when ops are
issued back to back. The membrane read port is transparent to the write port: an op issued in the
cycle another op writes the same word sees the new value, so there is no hazard to stall for.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, enum, memory, wiring
from amaranth.lib.wiring import In, Out

from model.compiled import CompiledLayer, Integration, Reset, signed_range

from .lowest_set_bit import index_bits


class LayerOp(enum.Enum, shape=2):
    IDLE = 0
    INTEGRATE = 1  # V = sat(V + W[row]) for one word
    UPDATE = 2     # fire, reset, then next step's leak and bias: V = sat(leak(reset(V)) + bias)
    INIT = 3       # V = bias: the state at the start of an inference


def pack_words(values, lanes: int, bits: int) -> list[int]:
    """Pack a flat list of integers into words of `lanes` two's complement fields of `bits` bits,
    lane k in bits [k*bits, (k+1)*bits); a short last word is padded with zeros."""
    mask = (1 << bits) - 1
    words = []
    for start in range(0, len(values), lanes):
        word = 0
        for k, value in enumerate(values[start:start + lanes]):
            word |= (int(value) & mask) << (k * bits)
        words.append(word)
    return words


class LayerEngine(wiring.Component):
    """Membranes, weights and biases of one layer.

    Ports (issue side, cycle c): op, row (input index, for INTEGRATE), word.
    Result side (cycle c+1, for UPDATE): fired (one bit per lane, padding lanes masked off),
    fired_word, fired_valid, and membrane (the lanes' membranes after integration: the readout of
    a non-spiking layer).
    """

    def __init__(self, *, layer: CompiledLayer, lanes: int):
        if not isinstance(layer, CompiledLayer):
            raise TypeError(f"layer must be a CompiledLayer, not {type(layer).__name__}")
        if not isinstance(lanes, int) or not 1 <= lanes <= layer.n_out:
            raise ValueError(f"lanes must be 1..{layer.n_out} for this layer, not {lanes!r}")
        self.layer = layer
        self.lanes = lanes
        self.words = -(-layer.n_out // lanes)
        self.membrane_layout = data.ArrayLayout(signed(layer.membrane_bits), lanes)
        super().__init__({
            "op": In(LayerOp),
            "row": In(index_bits(layer.n_in)),
            "word": In(index_bits(self.words)),
            "fired": Out(lanes),
            "fired_word": Out(index_bits(self.words)),
            "fired_valid": Out(1),
            "membrane": Out(self.membrane_layout),
        })

    def _weight_words(self) -> list[int]:
        layer, lanes, words = self.layer, self.lanes, self.words
        width = layer.weight_bits
        out = []
        for i in range(layer.n_in):
            row = [int(w) for w in layer.weights[i]] + [0] * (words * lanes - layer.n_out)
            if width == 1:  # binary weights: bit 1 is +1, bit 0 is -1
                row = [1 if w > 0 else 0 for w in row]
            out.extend(pack_words(row, lanes, width))
        return out

    def elaborate(self, platform):
        m = Module()
        layer, lanes, words = self.layer, self.lanes, self.words
        v_bits, w_bits = layer.membrane_bits, layer.weight_bits
        v_lo, v_hi = signed_range(v_bits)
        bias_words = pack_words(layer.bias, lanes, v_bits)

        m.submodules.weights = weights = memory.Memory(
            shape=unsigned(lanes * w_bits), depth=layer.n_in * words, init=self._weight_words())
        m.submodules.biases = biases = memory.Memory(
            shape=unsigned(lanes * v_bits), depth=words, init=bias_words)
        # No initial contents: silicon has none. The core runs an INIT pass after reset instead.
        m.submodules.membranes = membranes = memory.Memory(shape=unsigned(lanes * v_bits), depth=words, init=[])
        weight_rd = weights.read_port()
        bias_rd = biases.read_port()
        membrane_wr = membranes.write_port()
        membrane_rd = membranes.read_port(transparent_for=(membrane_wr,))

        m.d.comb += [
            weight_rd.addr.eq(self.row * words + self.word),
            bias_rd.addr.eq(self.word),
            membrane_rd.addr.eq(self.word),
        ]
        op_q = Signal(LayerOp)
        word_q = Signal.like(self.word)
        m.d.sync += [op_q.eq(self.op), word_q.eq(self.word)]

        v_in = data.ArrayLayout(signed(v_bits), lanes)(membrane_rd.data)
        b_in = data.ArrayLayout(signed(v_bits), lanes)(bias_rd.data)
        w_raw = data.ArrayLayout(unsigned(w_bits), lanes)(weight_rd.data)
        v_out = Signal(self.membrane_layout)
        fired = Signal(lanes)
        wide = signed(max(v_bits, w_bits) + 2)

        def saturate(value):
            return Mux(value > v_hi, v_hi, Mux(value < v_lo, v_lo, value))

        for k in range(lanes):
            v = v_in[k]
            if w_bits == 1:
                weight = Mux(w_raw[k][0], Const(1, signed(2)), Const(-1, signed(2)))
            else:
                weight = w_raw[k].as_signed()
            integrated = Signal(wide, name=f"integrated_{k}")
            m.d.comb += integrated.eq(v + weight)

            spike = Signal(name=f"spike_{k}")
            if layer.spiking:
                m.d.comb += spike.eq(v >= layer.threshold)
            after_reset = Signal(signed(v_bits), name=f"after_reset_{k}")
            if layer.reset is Reset.SUBTRACT:
                m.d.comb += after_reset.eq(Mux(spike, v - layer.threshold, v))
            else:
                m.d.comb += after_reset.eq(Mux(spike, 0, v))
            leaked = Signal(signed(v_bits), name=f"leaked_{k}")
            if layer.integration is Integration.DISCONTINUOUS:
                m.d.comb += leaked.eq(0)
            elif layer.leak_shift is None:
                m.d.comb += leaked.eq(after_reset)
            else:
                m.d.comb += leaked.eq(after_reset - (after_reset >> layer.leak_shift))
            updated = Signal(wide, name=f"updated_{k}")
            m.d.comb += updated.eq(leaked + b_in[k])

            with m.Switch(op_q):
                with m.Case(LayerOp.INTEGRATE):
                    m.d.comb += v_out[k].eq(saturate(integrated))
                with m.Case(LayerOp.UPDATE):
                    m.d.comb += v_out[k].eq(saturate(updated))
                with m.Default():
                    m.d.comb += v_out[k].eq(b_in[k])
            m.d.comb += fired[k].eq(spike)

        # Lanes past n_out in the last word hold no neuron: never report them.
        last_lanes = layer.n_out - (words - 1) * lanes
        lane_mask = Mux(word_q == words - 1, (1 << last_lanes) - 1, (1 << lanes) - 1)
        m.d.comb += [
            membrane_wr.addr.eq(word_q),
            membrane_wr.data.eq(v_out),
            membrane_wr.en.eq(op_q != LayerOp.IDLE),
            self.fired.eq(fired & lane_mask),
            self.fired_word.eq(word_q),
            self.fired_valid.eq(op_q == LayerOp.UPDATE),
            self.membrane.eq(v_in),
        ]
        return m
