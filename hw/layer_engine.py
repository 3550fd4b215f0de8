"""One layer's memories and its `lanes`-wide membrane datapath.

Every operation is a read-modify-write of one membrane word, issued in one cycle (memory reads) and
completed in the next (arithmetic and write-back), so one word is updated per cycle when ops are
issued back to back. The membrane read port is transparent to the write port: an op issued in the
cycle another op writes the same word sees the new value, so there is no hazard to stall for.

A run of INTEGRATE ops on one word (a batch of input spikes, CoreArchitecture.spike_batch) reads the
word once and writes it once: every op but the last holds its sum in the datapath (`hold`), and every
op but the first takes the previous op's sum instead of reading the memory (`chained`).

The memories are Amaranth memories (synthesized as flip-flops) or SRAM macros (hw/sram_macro.py),
which have no read-during-write bypass: then the engine forwards the word being written itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, enum, memory, wiring
from amaranth.lib.wiring import In, Out

from model.architecture import MemoryStyle
from model.compiled import CompiledLayer, Integration, Reset, signed_range

from .lowest_set_bit import index_bits
from .banked_macro import BankedSramRead, bank_shapes
from .sram_macro import SramMacroInstance, SramMacroShape


class LayerOp(enum.Enum, shape=2):
    IDLE = 0
    INTEGRATE = 1  # V = sat(V + W[row]) for one word
    UPDATE = 2     # fire, reset, then next step's leak and bias: V = sat(leak(reset(V)) + bias)
                   # (subtract_after_leak: V = sat(leak(V) - threshold s + bias))
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


def layer_memory_shapes(layer: CompiledLayer, *, lanes: int, macro_prefix: str
                        ) -> tuple[SramMacroShape, SramMacroShape, SramMacroShape]:
    """A layer's memories (weights, biases, membranes): their words in either memory style, and the
    macros a macro-style core instantiates (named macro_prefix + weights / biases / membranes).
    A weight row (an input of a dense layer, a kernel tap of a convolution) fills ceil(channels / lanes)
    words; a convolution's biases are per channel, its membranes per neuron."""
    per_row = -(-layer.channels // lanes)
    words = -(-layer.n_out // lanes)
    v_bits = layer.membrane_bits
    weight_words = []
    for i in range(layer.weights.shape[0]):
        row = [int(w) for w in layer.weights[i]] + [0] * (per_row * lanes - layer.channels)
        if layer.weight_bits == 1:  # binary weights: bit 1 is +1, bit 0 is -1
            row = [1 if w > 0 else 0 for w in row]
        weight_words.extend(pack_words(row, lanes, layer.weight_bits))
    return (
        SramMacroShape(name=f"{macro_prefix}weights", width=lanes * layer.weight_bits,
                       depth=layer.weights.shape[0] * per_row, init=tuple(weight_words)),
        SramMacroShape(name=f"{macro_prefix}biases", width=lanes * v_bits, depth=per_row,
                       init=tuple(pack_words(layer.bias, lanes, v_bits))),
        # No initial contents: silicon has none. The core runs an INIT pass after reset instead.
        SramMacroShape(name=f"{macro_prefix}membranes", width=lanes * v_bits, depth=words, writable=True),
    )


@dataclass(frozen=True)
class _Port:
    """A memory port's signals, for a macro as for an Amaranth memory's port."""

    addr: Signal
    en: Signal
    data: Signal


class LayerEngine(wiring.Component):
    """Membranes, weights and biases of one layer.

    Ports (issue side, cycle c): op, row (weight row: the input index of a dense layer, the kernel tap
    of a convolution), group (the word within the row: of a dense layer the membrane word itself, of a
    convolution the word's place among its position's words), word (membrane word).
    With `batching` also chained (INTEGRATE only): start from the previous op's held sum, not from the
    memory (no read); and hold (INTEGRATE only): keep this op's sum for a chained op next cycle instead
    of writing it.
    Result side (cycle c+1, for UPDATE): fired (one bit per lane, padding lanes masked off),
    fired_word, fired_valid, and membrane (the lanes' membranes after integration: the readout of
    a non-spiking layer).
    """

    def __init__(self, *, layer: CompiledLayer, lanes: int, memories: MemoryStyle = MemoryStyle.FLIP_FLOPS,
                 macro_prefix: str = "sram_", weight_bank_words: int | None = None, operand_isolation: bool = False,
                 batching: bool = False):
        if not isinstance(layer, CompiledLayer):
            raise TypeError(f"layer must be a CompiledLayer, not {type(layer).__name__}")
        if not isinstance(lanes, int) or not 1 <= lanes <= layer.n_out:
            raise ValueError(f"lanes must be 1..{layer.n_out} for this layer, not {lanes!r}")
        if not isinstance(memories, MemoryStyle):
            raise TypeError(f"memories must be a MemoryStyle, not {memories!r}")
        self.layer = layer
        self.lanes = lanes
        self.memories = memories
        self.macro_prefix = macro_prefix  # this layer's macros are named prefix + weights / biases / membranes
        self.weight_bank_words = weight_bank_words  # the weight macro's banks (hw/banked_macro.py), None: one macro
        self.operand_isolation = operand_isolation  # the update logic's inputs held at zero outside UPDATE
        self.batching = batching  # ops of a spike batch chain their sums (the chained and hold ports)
        self.words = -(-layer.n_out // lanes)
        self.words_per_row = -(-layer.channels // lanes)
        self.membrane_layout = data.ArrayLayout(signed(layer.membrane_bits), lanes)
        super().__init__({
            "op": In(LayerOp),
            "row": In(index_bits(layer.weights.shape[0])),
            "group": In(index_bits(self.words_per_row)),
            "word": In(index_bits(self.words)),
            **({"chained": In(1), "hold": In(1)} if batching else {}),
            "fired": Out(lanes),
            "fired_word": Out(index_bits(self.words)),
            "fired_valid": Out(1),
            "membrane": Out(self.membrane_layout),
        })

    def memory_shapes(self) -> tuple[SramMacroShape, SramMacroShape, SramMacroShape]:
        return layer_memory_shapes(self.layer, lanes=self.lanes, macro_prefix=self.macro_prefix)

    def _read_only(self, m: Module, name: str, shape: SramMacroShape, *, bank_words: int | None = None):
        """A read-only memory's read port (addr, en, data)."""
        if self.memories.read_only_in_macros:
            banked = len(bank_shapes(shape, bank_words=bank_words)) > 1
            m.submodules[name] = macro = (BankedSramRead(shape, bank_words=bank_words) if banked
                                          else SramMacroInstance(shape))
            return _Port(addr=macro.read_addr, en=macro.read_en, data=macro.read_data)
        m.submodules[name] = array = memory.Memory(shape=unsigned(shape.width), depth=shape.depth, init=list(shape.init))
        return array.read_port()

    def _membranes(self, m: Module, shape: SramMacroShape):
        """The membranes' read port, transparent to their write port (an operation issued in the cycle
        another writes the same word sees the new value), and the write port."""
        if self.memories.membranes_in_macros:
            m.submodules.membranes = macro = SramMacroInstance(shape)
            read = _Port(addr=Signal.like(macro.read_addr, name="membrane_read_addr"),
                         en=Signal(name="membrane_read_en"), data=Signal(shape.width, name="membrane_read_data"))
            write = _Port(addr=macro.write_addr, en=macro.write_en, data=macro.write_data)
            # A macro returns the old word on a read during a write of it: forward the word written.
            forward = Signal(name="membrane_forward")
            forwarded = Signal(shape.width, name="membrane_forwarded")
            m.d.comb += [macro.read_addr.eq(read.addr), macro.read_en.eq(read.en),
                         read.data.eq(Mux(forward, forwarded, macro.read_data))]
            with m.If(read.en):
                m.d.sync += [forward.eq(write.en & (write.addr == read.addr)), forwarded.eq(write.data)]
            return read, write
        m.submodules.membranes = membranes = memory.Memory(shape=unsigned(shape.width), depth=shape.depth, init=[])
        write = membranes.write_port()
        return membranes.read_port(transparent_for=(write,)), write

    def _bias_word(self, m: Module):
        """The bias word of the membrane word being updated or initialised. A dense layer's biases are
        per neuron: the word itself. A convolution's are per channel: its update and initialising passes
        walk the words in order from 0, so a counter modulo the words per position follows them."""
        if self.layer.conv is None:
            return self.word
        if self.words_per_row == 1:
            return 0
        counter = Signal(range(self.words_per_row), name="bias_group")
        current = Mux(self.word == 0, 0, counter)
        with m.If((self.op == LayerOp.UPDATE) | (self.op == LayerOp.INIT)):
            m.d.sync += counter.eq(Mux(current == self.words_per_row - 1, 0, current + 1))
        return current

    def elaborate(self, platform):
        m = Module()
        layer, lanes, words = self.layer, self.lanes, self.words
        v_bits, w_bits = layer.membrane_bits, layer.weight_bits
        v_lo, v_hi = signed_range(v_bits)
        weight_shape, bias_shape, membrane_shape = self.memory_shapes()
        weight_rd = self._read_only(m, "weights", weight_shape, bank_words=self.weight_bank_words)
        bias_rd = self._read_only(m, "biases", bias_shape)
        membrane_rd, membrane_wr = self._membranes(m, membrane_shape)

        # The memories are read only for the operations that need them (a macro's read enable; the
        # read data holds otherwise): weights to integrate, biases to update or initialise.
        m.d.comb += [
            weight_rd.addr.eq(self.row * self.words_per_row + self.group),
            weight_rd.en.eq(self.op == LayerOp.INTEGRATE),
            bias_rd.addr.eq(self._bias_word(m)),
            bias_rd.en.eq((self.op == LayerOp.UPDATE) | (self.op == LayerOp.INIT)),
            membrane_rd.addr.eq(self.word),
        ]
        op_q = Signal(LayerOp)
        word_q = Signal.like(self.word)
        m.d.sync += [op_q.eq(self.op), word_q.eq(self.word)]
        v_out = Signal(self.membrane_layout)
        write_en = op_q != LayerOp.IDLE
        if self.batching:
            # The sum a holding op keeps for the chained op after it, in place of a membrane write and read.
            chained_q, hold_q = Signal(), Signal()
            held = Signal(self.membrane_layout, name="held_sum")
            m.d.sync += [chained_q.eq(self.chained), hold_q.eq(self.hold)]
            with m.If(hold_q):
                m.d.sync += held.eq(v_out)
            m.d.comb += membrane_rd.en.eq((self.op != LayerOp.IDLE) & ~self.chained)
            write_en = write_en & ~hold_q
            v_in = data.ArrayLayout(signed(v_bits), lanes)(Mux(chained_q, held, membrane_rd.data))
        else:
            m.d.comb += membrane_rd.en.eq(self.op != LayerOp.IDLE)
            v_in = data.ArrayLayout(signed(v_bits), lanes)(membrane_rd.data)
        b_in = data.ArrayLayout(signed(v_bits), lanes)(bias_rd.data)
        w_raw = data.ArrayLayout(unsigned(w_bits), lanes)(weight_rd.data)
        fired = Signal(lanes)
        wide = signed(max(v_bits, w_bits) + 2)

        # Most cycles integrate: with operand isolation the update logic sees zeros then, not each new word.
        if self.operand_isolation:
            v_update = data.ArrayLayout(signed(v_bits), lanes)(Mux(op_q == LayerOp.UPDATE, v_in.as_value(), 0))
        else:
            v_update = v_in

        def saturate(value):
            return Mux(value > v_hi, v_hi, Mux(value < v_lo, v_lo, value))

        for k in range(lanes):
            v = v_update[k]
            if w_bits == 1:
                weight = Mux(w_raw[k][0], Const(1, signed(2)), Const(-1, signed(2)))
            else:
                weight = w_raw[k].as_signed()
            integrated = Signal(wide, name=f"integrated_{k}")
            m.d.comb += integrated.eq(v_in[k] + weight)

            spike = Signal(name=f"spike_{k}")
            if layer.spiking:
                m.d.comb += spike.eq(v >= layer.threshold)
            # SUBTRACT and ZERO reset, then leak; SUBTRACT_AFTER_LEAK leaks the membrane as it was and
            # subtracts after (it stays in range: CompiledLayer.reset_drop sizes it).
            after_reset = Signal(signed(v_bits), name=f"after_reset_{k}")
            if layer.reset is Reset.SUBTRACT:
                m.d.comb += after_reset.eq(Mux(spike, v - layer.threshold, v))
            elif layer.reset is Reset.ZERO:
                m.d.comb += after_reset.eq(Mux(spike, 0, v))
            else:
                m.d.comb += after_reset.eq(v)
            leaked = Signal(signed(v_bits), name=f"leaked_{k}")
            if layer.integration is Integration.DISCONTINUOUS:
                m.d.comb += leaked.eq(0)
            elif layer.leak_shift is None:
                m.d.comb += leaked.eq(after_reset)
            else:
                m.d.comb += leaked.eq(after_reset - (after_reset >> layer.leak_shift))
            next_start = Signal(signed(v_bits), name=f"next_start_{k}")
            if layer.reset is Reset.SUBTRACT_AFTER_LEAK:
                m.d.comb += next_start.eq(Mux(spike, leaked - layer.threshold, leaked))
            else:
                m.d.comb += next_start.eq(leaked)
            updated = Signal(wide, name=f"updated_{k}")
            m.d.comb += updated.eq(next_start + b_in[k])

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
            membrane_wr.en.eq(write_en),
            self.fired.eq(fired & lane_mask),
            self.fired_word.eq(word_q),
            self.fired_valid.eq(op_q == LayerOp.UPDATE),
            self.membrane.eq(v_in),
        ]
        return m
