"""The event-driven, time-multiplexed spiking core (../shared/DESIGN.md, "The core").

Layers run one after another within a timestep; each input spike of a layer costs ceil(n_out/lanes)
membrane read-modify-write cycles, issued back to back. Hidden-layer spikes land in a bitmap and are
consumed lowest index first by a combinational search, so empty words cost nothing. The exact cycle
contract is written out, and predicted, in sim/cycles.py.

Ports (Verilog names follow from the signatures: events_in__valid, events_in__payload, ...):
  events_in  stream of {index, end_of_step}: a timestep's input spikes in ascending index, then one
             entry with end_of_step set. A host always sends all T timesteps; after an early exit
             the core takes and discards the rest of the inference's entries.
  pixels_in  (instead of events_in, with the on-chip rate encoder) one word of 8-bit intensities of
             `encoder lanes` pixels per entry, ceil(n_inputs / lanes) entries once per inference;
             the core draws every timestep's spikes itself (hw/rate_encoder.py).
  result     stream of {predicted, timesteps, cycles, readout}.
  trace      (optional, never stalls) every non-empty word of spikes of every spiking layer:
             {timestep, layer, word, spikes}; neuron = word * lanes_of_layer + bit.
"""

from __future__ import annotations

from amaranth import Array, Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from model.architecture import CoreArchitecture, MemoryStyle
from model.compiled import CompiledNetwork, Readout, signed_range

from .layer_engine import LayerEngine, LayerOp, layer_memory_shapes
from .lowest_set_bit import LowestSetBit, index_bits
from .rate_encoder import RateEncoderUnit, pixel_word_layout
from .sram_macro import MACRO_PREFIX, SramMacroShape

CYCLE_COUNTER_BITS = 32


def event_layout(net: CompiledNetwork) -> data.StructLayout:
    return data.StructLayout({"index": unsigned(index_bits(net.n_inputs)), "end_of_step": 1})


def pixel_layout(arch: CoreArchitecture) -> data.StructLayout:
    return data.StructLayout({"intensities": pixel_word_layout(arch.encoder)})


def input_layout(net: CompiledNetwork, arch: CoreArchitecture) -> data.StructLayout:
    """The input stream's payload: pixel words with the on-chip encoder, spike events without."""
    return pixel_layout(arch) if arch.encoder is not None else event_layout(net)


def input_port_name(arch: CoreArchitecture) -> str:
    return "pixels_in" if arch.encoder is not None else "events_in"


def result_layout(net: CompiledNetwork) -> data.StructLayout:
    return data.StructLayout({
        "predicted": unsigned(index_bits(net.n_classes)),
        "timesteps": unsigned(net.timesteps.bit_length()),
        "cycles": unsigned(CYCLE_COUNTER_BITS),
        "readout": data.ArrayLayout(signed(net.readout_bits), net.n_classes),
    })


def trace_layout(net: CompiledNetwork, arch: CoreArchitecture) -> data.StructLayout:
    return data.StructLayout({
        "timestep": unsigned(index_bits(net.timesteps)),
        "layer": unsigned(index_bits(len(net.layers))),
        "word": unsigned(index_bits(max(arch.words(net)))),
        "spikes": unsigned(max(arch.lanes_of(layer.n_out) for layer in net.layers)),
    })


def macro_prefix(layer: int) -> str:
    """Layer k's macros are named sram_layer{k}_weights / _biases / _membranes."""
    return f"{MACRO_PREFIX}layer{layer}_"


def core_sram_macros(network: CompiledNetwork, architecture: CoreArchitecture) -> list[SramMacroShape]:
    """The macros a core instantiates (none when its memories are flip-flops)."""
    if architecture.memories is not MemoryStyle.SRAM_MACROS:
        return []
    return [shape for k, layer in enumerate(network.layers)
            for shape in layer_memory_shapes(layer, lanes=architecture.lanes_of(layer.n_out), macro_prefix=macro_prefix(k))]


class SpikingCore(wiring.Component):
    def __init__(self, *, network: CompiledNetwork, architecture: CoreArchitecture):
        if not isinstance(network, CompiledNetwork):
            raise TypeError(f"network must be a CompiledNetwork, not {type(network).__name__}")
        if not isinstance(architecture, CoreArchitecture):
            raise TypeError(f"architecture must be a CoreArchitecture, not {type(architecture).__name__}")
        self.network = network
        self.architecture = architecture
        ports = {
            input_port_name(architecture): In(stream.Signature(input_layout(network, architecture))),
            "result": Out(stream.Signature(result_layout(network))),
        }
        if architecture.trace:
            # No ready: the trace never stalls the core (its cycle count must not depend on it).
            ports["trace"] = Out(wiring.Signature({
                "valid": Out(1), "payload": Out(trace_layout(network, architecture))}))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        net, arch = self.network, self.architecture
        n_layers, n_classes, steps = len(net.layers), net.n_classes, net.timesteps
        words = arch.words(net)
        lanes = [arch.lanes_of(layer.n_out) for layer in net.layers]

        engines = [LayerEngine(layer=layer, lanes=lanes[k], memories=arch.memories, macro_prefix=macro_prefix(k))
                   for k, layer in enumerate(net.layers)]
        for k, engine in enumerate(engines):
            m.submodules[f"layer{k}"] = engine

        # Spike bitmaps of the hidden layers, consumed by the next layer lowest index first.
        pending = [Signal(words[k] * lanes[k], name=f"pending{k}") for k in range(n_layers - 1)]
        finders = []
        for k in range(n_layers - 1):
            finder = LowestSetBit(width=words[k] * lanes[k])
            m.submodules[f"next_spike{k}"] = finder
            m.d.comb += finder.bits.eq(pending[k])
            finders.append(finder)
        for k in range(n_layers - 1):
            with m.If(engines[k].fired_valid):
                with m.Switch(engines[k].fired_word):
                    for w in range(words[k]):
                        with m.Case(w):
                            m.d.sync += pending[k][w * lanes[k]:(w + 1) * lanes[k]].eq(engines[k].fired)

        # Readout registers: spike counts, or the output membranes of a non-spiking layer.
        readout_shape = signed(net.readout_bits)
        readout = Array(Signal(readout_shape, name=f"readout{j}") for j in range(n_classes))
        out_engine = engines[-1]
        with m.If(out_engine.fired_valid):
            with m.Switch(out_engine.fired_word):
                for w in range(words[-1]):
                    with m.Case(w):
                        for lane in range(lanes[-1]):
                            j = w * lanes[-1] + lane
                            if j >= n_classes:
                                break
                            if net.readout is Readout.SPIKE_COUNT:
                                m.d.sync += readout[j].eq(readout[j] + out_engine.fired[lane])
                            else:
                                m.d.sync += readout[j].eq(out_engine.membrane[lane])

        timestep = Signal(range(steps), name="timestep")
        used = Signal(range(steps + 1), name="timesteps_used")
        busy = Signal()  # words of the current spike's read-modify-write still to issue
        row = Signal(range(max(layer.n_in for layer in net.layers)))
        word = Signal(range(max(words) + 1))
        class_index = Signal(range(n_classes))
        top1_class = Signal(range(n_classes))
        top1 = Signal(readout_shape)
        top2 = Signal(readout_shape)
        cycles = Signal(CYCLE_COUNTER_BITS)
        counting = Signal()
        m.d.comb += self.result.payload.cycles.eq(cycles)
        with m.If(counting):
            m.d.sync += cycles.eq(cycles + 1)

        if arch.trace:
            for k, engine in enumerate(engines):
                if not net.layers[k].spiking:
                    continue
                with m.If(engine.fired_valid & engine.fired.any()):
                    m.d.comb += [
                        self.trace.valid.eq(1),
                        self.trace.payload.timestep.eq(timestep),
                        self.trace.payload.layer.eq(k),
                        self.trace.payload.word.eq(engine.fired_word),
                        self.trace.payload.spikes.eq(engine.fired),
                    ]

        exit_rule = net.early_exit
        v_min = signed_range(net.readout_bits)[0]
        encoder = arch.encoder
        if encoder is None:
            events = self.events_in
            start_state = "INTEGRATE0"
        else:
            pixels = self.pixels_in
            start_state = "LOAD"
            groups = encoder.groups(net.n_inputs)
            m.submodules.encoder = unit = RateEncoderUnit(encoder=encoder, n_inputs=net.n_inputs)
            load_group = Signal(range(groups))
            draw_group = Signal(range(groups + 1))
            drawn = Signal(encoder.lanes)         # this group's spikes not yet integrated
            drawn_base = Signal(range(groups * encoder.lanes))
            m.submodules.next_pixel = next_pixel = LowestSetBit(width=encoder.lanes)
            m.d.comb += [next_pixel.bits.eq(drawn), unit.group.eq(draw_group)]

        with m.FSM(name="control"):
            def initialise_membranes(then: str) -> None:
                """One word per cycle in every layer at once: V = bias, the start of an inference."""
                for k, engine in enumerate(engines):
                    with m.If(word < words[k]):
                        m.d.comb += [engine.op.eq(LayerOp.INIT), engine.word.eq(word)]
                m.d.sync += word.eq(word + 1)
                with m.If(word == max(words) - 1):
                    m.d.sync += word.eq(0)
                    m.next = then

            with m.State("POWER_ON"):
                # Membrane memories have no reset: initialise them before the first inference.
                initialise_membranes(start_state)

            if encoder is not None:
                with m.State("LOAD"):
                    # The inference's pixel words, once; the encoder draws every timestep from them.
                    m.d.comb += [pixels.ready.eq(1), unit.write_group.eq(load_group),
                                 unit.write_data.eq(pixels.payload.intensities)]
                    with m.If(pixels.valid):
                        m.d.comb += [counting.eq(1), unit.write_enable.eq(1)]
                        m.d.sync += load_group.eq(load_group + 1)
                        with m.If(load_group == groups - 1):
                            m.d.sync += load_group.eq(0)
                            m.next = "INTEGRATE0"

            for k, engine in enumerate(engines):
                last_word = words[k] - 1
                with m.State(f"INTEGRATE{k}"):
                    with m.If(busy):
                        m.d.comb += [counting.eq(1), engine.op.eq(LayerOp.INTEGRATE),
                                     engine.row.eq(row), engine.word.eq(word)]
                        m.d.sync += word.eq(word + 1)
                        with m.If(word == last_word):
                            m.d.sync += busy.eq(0)
                    with m.Else():
                        def begin_row(index, engine=engine, last_word=last_word, k=k) -> None:
                            """Issue word 0 of input `index`'s row now, the rest on the next cycles."""
                            m.d.comb += [counting.eq(1), engine.op.eq(LayerOp.INTEGRATE), engine.row.eq(index),
                                         engine.word.eq(0)]
                            if last_word > 0:
                                m.d.sync += [busy.eq(1), word.eq(1), row.eq(index)]

                        def end_of_step(k=k) -> None:
                            m.d.comb += counting.eq(1)
                            m.d.sync += word.eq(0)
                            m.next = f"UPDATE{k}"

                        if k == 0 and encoder is not None:
                            # Drawn spikes first, lowest pixel first; then draw the next group.
                            with m.If(next_pixel.found):
                                begin_row(drawn_base + next_pixel.index)
                                m.d.sync += drawn.bit_select(next_pixel.index, 1).eq(0)
                            with m.Elif(draw_group < groups):
                                m.d.comb += [counting.eq(1), unit.draw.eq(1)]
                                m.d.sync += [drawn.eq(unit.spikes), drawn_base.eq(draw_group * encoder.lanes),
                                             draw_group.eq(draw_group + 1)]
                            with m.Else():
                                m.d.sync += draw_group.eq(0)
                                end_of_step()
                        elif k == 0:
                            m.d.comb += events.ready.eq(1)
                            with m.If(events.valid & events.payload.end_of_step):
                                end_of_step()
                            with m.Elif(events.valid):
                                begin_row(events.payload.index)
                        else:
                            with m.If(finders[k - 1].found):
                                begin_row(finders[k - 1].index)
                                m.d.sync += pending[k - 1].bit_select(finders[k - 1].index, 1).eq(0)
                            with m.Else():
                                end_of_step()

                with m.State(f"UPDATE{k}"):
                    m.d.comb += [counting.eq(1), engine.op.eq(LayerOp.UPDATE), engine.word.eq(word)]
                    m.d.sync += word.eq(word + 1)
                    with m.If(word == last_word):
                        m.next = f"SETTLE{k}"

                with m.State(f"SETTLE{k}"):
                    # The last UPDATE word is written back now; the bitmap is complete after it.
                    m.d.comb += counting.eq(1)
                    m.d.sync += word.eq(0)
                    if k + 1 < n_layers:
                        m.next = f"INTEGRATE{k + 1}"
                    else:
                        check = timestep == steps - 1
                        if exit_rule is not None:
                            check = check | (timestep >= exit_rule.min_steps - 1)
                        with m.If(check):
                            m.d.sync += class_index.eq(0)
                            m.next = "SCAN"
                        with m.Else():
                            m.d.sync += timestep.eq(timestep + 1)
                            m.next = "INTEGRATE0"

            with m.State("SCAN"):
                # One class per cycle: argmax (lowest index on ties) and the two largest values.
                m.d.comb += counting.eq(1)
                value = readout[class_index]
                with m.If((class_index == 0) | (value > top1)):
                    m.d.sync += [top1.eq(value), top1_class.eq(class_index),
                                 top2.eq(v_min)]
                    with m.If(class_index != 0):
                        m.d.sync += top2.eq(top1)
                with m.Elif(value > top2):
                    m.d.sync += top2.eq(value)
                m.d.sync += class_index.eq(class_index + 1)
                with m.If(class_index == n_classes - 1):
                    m.next = "DECIDE"

            with m.State("DECIDE"):
                m.d.comb += counting.eq(1)
                finish = timestep == steps - 1
                if exit_rule is not None:
                    margin = Signal(signed(net.readout_bits + 1))
                    m.d.comb += margin.eq(top1 - top2)
                    finish = finish | ((timestep >= exit_rule.min_steps - 1) & (margin >= exit_rule.margin))
                with m.If(finish):
                    m.d.sync += [used.eq(timestep + 1), word.eq(0)]
                    m.next = "INIT"
                with m.Else():
                    m.d.sync += timestep.eq(timestep + 1)
                    m.next = "INTEGRATE0"

            with m.State("INIT"):
                m.d.comb += counting.eq(1)
                initialise_membranes("RESULT")

            with m.State("RESULT"):
                m.d.comb += [
                    self.result.valid.eq(1),
                    self.result.payload.predicted.eq(top1_class),
                    self.result.payload.timesteps.eq(used),
                ]
                for j in range(n_classes):
                    m.d.comb += self.result.payload.readout[j].eq(readout[j])
                with m.If(self.result.ready):
                    m.d.sync += [cycles.eq(0), *(readout[j].eq(0) for j in range(n_classes))]
                    if encoder is not None:
                        # Pixels come once per inference: nothing to discard after an early exit.
                        m.d.comb += unit.restart.eq(1)
                        m.d.sync += timestep.eq(0)
                        m.next = "LOAD"
                    else:
                        with m.If(used == steps):
                            m.d.sync += timestep.eq(0)
                            m.next = "INTEGRATE0"
                        with m.Else():
                            m.d.sync += timestep.eq(used)
                            m.next = "DISCARD"

            if encoder is None:
                with m.State("DISCARD"):
                    # After an early exit: take the inference's remaining input entries, unused.
                    m.d.comb += events.ready.eq(1)
                    with m.If(events.valid & events.payload.end_of_step):
                        with m.If(timestep == steps - 1):
                            m.d.sync += timestep.eq(0)
                            m.next = "INTEGRATE0"
                        with m.Else():
                            m.d.sync += timestep.eq(timestep + 1)
        return m
