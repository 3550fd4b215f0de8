"""The event-driven, time-multiplexed spiking core (../shared/DESIGN.md, "The core").

Layers run one after another within a timestep; each input spike of a dense layer costs
ceil(n_out/lanes) membrane read-modify-write cycles, issued back to back; a spike into a convolution
costs the words of the output positions it reaches (hw/conv_taps.py). With a spike batch
(CoreArchitecture.spike_batch > 1) a dense layer first takes up to that many spikes into a buffer, one
per cycle, then passes over its membrane words once, adding every buffered spike's weights to a word
in consecutive cycles between one read and one write of it. Hidden-layer spikes land in a bitmap and are
consumed lowest index first by a combinational search, so empty words cost nothing. The exact cycle
contract is written out, and predicted, in sim/cycles.py.

Ports (Verilog names follow from the signatures: events_in__valid, events_in__payload, ...):
  events_in  stream of {index, end_of_step}: a timestep's input spikes in ascending index, then one
             entry with end_of_step set. A host always sends all T timesteps; after an early exit
             the core takes and discards the rest of the inference's entries.
  pixels_in  (instead of events_in, with the on-chip rate encoder) one word of 8-bit intensities of
             `encoder lanes` pixels per entry, ceil(n_inputs / lanes) entries once per inference;
             the core draws every timestep's spikes itself (hw/rate_encoder.py).
  result     stream of {predicted, timesteps, cycles, readout, input_error}.
  trace      (optional, never stalls) every non-empty word of spikes of every spiking layer:
             {timestep, layer, word, spikes}; neuron = word * lanes_of_layer + bit.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Array, Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork, Readout, signed_range

from .banked_macro import bank_shapes
from .conv_taps import ConvTapWalker
from .layer_engine import LayerEngine, LayerOp, layer_memory_shapes
from .lowest_set_bit import LowestSetBit, index_bits
from .spike_map import SpikeMap
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
        # Set when the inference dropped an input event: an index >= n_inputs, or one not above the
        # previous index of its timestep (a duplicate, or out of order). Last, so that the fields
        # before it keep their bit positions.
        "input_error": 1,
    })


def trace_layout(net: CompiledNetwork, arch: CoreArchitecture) -> data.StructLayout:
    return data.StructLayout({
        "timestep": unsigned(index_bits(net.timesteps)),
        "layer": unsigned(index_bits(len(net.layers))),
        "word": unsigned(index_bits(max(arch.words(net)))),
        "spikes": unsigned(max(arch.lanes_of(layer) for layer in net.layers)),
    })


def macro_prefix(layer: int) -> str:
    """Layer k's macros are named sram_layer{k}_weights / _biases / _membranes."""
    return f"{MACRO_PREFIX}layer{layer}_"


def core_sram_macros(network: CompiledNetwork, architecture: CoreArchitecture) -> list[SramMacroShape]:
    """The macros a core instantiates (none when its memories are flip-flops), a weight memory's banks
    in its place."""
    memories = architecture.memories
    if not memories.read_only_in_macros:
        return []
    macros = []
    for k, layer in enumerate(network.layers):
        weights, biases, membranes = layer_memory_shapes(layer, lanes=architecture.lanes_of(layer),
                                                         macro_prefix=macro_prefix(k))
        macros += [*bank_shapes(weights, bank_words=architecture.weight_bank_words), biases,
                   *((membranes,) if memories.membranes_in_macros else ())]
    return macros


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
        engines = self._layer_engines(m)
        walkers = self._tap_walkers(m)
        spike_maps = self._spike_maps(m, engines)
        readout = self._readout_registers(m, engines)
        control = self._control_signals(m)
        if self.architecture.trace:
            self._trace_port(m, engines, control)
        encoder = None if self.architecture.encoder is None else self._encoder(m)
        batch = self._spike_batch()
        with m.FSM(name="control"):
            self._power_on(m, engines, control)
            if encoder is not None:
                self._load_pixels(m, encoder, control)
            for k, engine in enumerate(engines):
                self._integrate_state(m, k, engine, walkers[k], spike_maps, control, encoder, batch)
                if self.architecture.spike_batch_of(self.network.layers[k]) > 1:
                    self._drain_state(m, k, engine, control, batch)
                self._update_states(m, k, engine, control)
            self._scan_state(m, readout, control)
            self._decide_state(m, control)
            self._init_state(m, engines, control)
            self._result_state(m, readout, control, encoder)
            if encoder is None:
                self._discard_state(m, control)
        return m

    # -- the datapath ------------------------------------------------------------------------------

    def _layer_engines(self, m: Module) -> list[LayerEngine]:
        """One engine per layer: its weight, bias and membrane memories and its `lanes` adders."""
        net, arch = self.network, self.architecture
        engines = [LayerEngine(layer=layer, lanes=arch.lanes_of(layer), memories=arch.memories,
                               macro_prefix=macro_prefix(k), weight_bank_words=arch.weight_bank_words,
                               operand_isolation=arch.operand_isolation, batching=arch.spike_batch_of(layer) > 1)
                   for k, layer in enumerate(net.layers)]
        for k, engine in enumerate(engines):
            m.submodules[f"layer{k}"] = engine
        return engines

    def _tap_walkers(self, m: Module) -> list[ConvTapWalker | None]:
        """A convolution layer's address generator (None for a dense layer)."""
        walkers = []
        for k, layer in enumerate(self.network.layers):
            walker = None
            if layer.conv is not None:
                walker = ConvTapWalker(geometry=layer.conv, words_per_position=self.architecture.words_per_tap(layer))
                m.submodules[f"taps{k}"] = walker
            walkers.append(walker)
        return walkers

    def _spike_maps(self, m: Module, engines: list[LayerEngine]) -> list[SpikeMap]:
        """Each hidden layer's spikes of the timestep, as a bitmap the next layer consumes lowest index
        first (empty words cost nothing)."""
        words = self.architecture.words(self.network)
        maps = []
        for k, engine in enumerate(engines[:-1]):
            spike_map = SpikeMap(words=words[k], word_bits=self.architecture.lanes_of(self.network.layers[k]))
            m.submodules[f"next_spike{k}"] = spike_map
            m.d.comb += [spike_map.write.eq(engine.fired_valid), spike_map.write_word.eq(engine.fired_word),
                         spike_map.write_bits.eq(engine.fired)]
            maps.append(spike_map)
        return maps

    def _readout_registers(self, m: Module, engines: list[LayerEngine]) -> Array:
        """Per class: the output spike count, or the non-spiking output layer's membrane."""
        net = self.network
        readout = Array(Signal(signed(net.readout_bits), name=f"readout{j}") for j in range(net.n_classes))
        out, lanes = engines[-1], self.architecture.lanes_of(net.layers[-1])
        with m.If(out.fired_valid):
            with m.Switch(out.fired_word):
                for w in range(self.architecture.words(net)[-1]):
                    with m.Case(w):
                        for lane in range(min(lanes, net.n_classes - w * lanes)):
                            j = w * lanes + lane
                            if net.readout is Readout.SPIKE_COUNT:
                                m.d.sync += readout[j].eq(readout[j] + out.fired[lane])
                            else:
                                m.d.sync += readout[j].eq(out.membrane[lane])
        return readout

    def _control_signals(self, m: Module) -> "_Control":
        net = self.network
        words = self.architecture.words(net)
        c = _Control(
            timestep=Signal(range(net.timesteps), name="timestep"),
            used=Signal(range(net.timesteps + 1), name="timesteps_used"),
            busy=Signal(name="busy"),  # words of the current spike's read-modify-write still to issue
            row=Signal(range(max(layer.n_in for layer in net.layers)), name="row"),
            word=Signal(range(max(words) + 1), name="word"),
            class_index=Signal(range(net.n_classes), name="class_index"),
            top1_class=Signal(range(net.n_classes), name="top1_class"),
            top1=Signal(signed(net.readout_bits), name="top1"),
            top2=Signal(signed(net.readout_bits), name="top2"),
            cycles=Signal(CYCLE_COUNTER_BITS, name="cycles"),
            counting=Signal(name="counting"),
            last_index=Signal(range(net.n_inputs), name="last_index"),
            seen_event=Signal(name="seen_event"),  # an event of this timestep was integrated
            input_error=Signal(name="input_error"),
        )
        # The cycle counter: cycles in which the core works on the inference (not waiting for input).
        m.d.comb += [self.result.payload.cycles.eq(c.cycles), self.result.payload.input_error.eq(c.input_error)]
        with m.If(c.counting):
            m.d.sync += c.cycles.eq(c.cycles + 1)
        return c

    def _trace_port(self, m: Module, engines: list[LayerEngine], c: "_Control") -> None:
        """Every non-empty spike word of every spiking layer, as it is written (no ready: never stalls)."""
        for k, engine in enumerate(engines):
            if not self.network.layers[k].spiking:
                continue
            with m.If(engine.fired_valid & engine.fired.any()):
                m.d.comb += [
                    self.trace.valid.eq(1),
                    self.trace.payload.timestep.eq(c.timestep),
                    self.trace.payload.layer.eq(k),
                    self.trace.payload.word.eq(engine.fired_word),
                    self.trace.payload.spikes.eq(engine.fired),
                ]

    def _encoder(self, m: Module) -> "_Encoder":
        """The on-chip rate encoder and the registers that walk its pixel groups."""
        encoder, n_inputs = self.architecture.encoder, self.network.n_inputs
        groups = encoder.groups(n_inputs)
        m.submodules.encoder = unit = RateEncoderUnit(encoder=encoder, n_inputs=n_inputs)
        m.submodules.next_pixel = next_pixel = LowestSetBit(width=encoder.lanes)
        e = _Encoder(unit=unit, next_pixel=next_pixel, groups=groups, lanes=encoder.lanes,
                     load_group=Signal(range(groups), name="load_group"),
                     draw_group=Signal(range(groups + 1), name="draw_group"),
                     drawn=Signal(encoder.lanes, name="drawn"),  # this group's spikes not yet integrated
                     drawn_base=Signal(range(groups * encoder.lanes), name="drawn_base"))
        m.d.comb += [next_pixel.bits.eq(e.drawn), unit.group.eq(e.draw_group)]
        return e

    def _spike_batch(self) -> "_SpikeBatch | None":
        """The buffer of input spikes a batching dense layer collects (one, shared: layers run in turn)."""
        net, arch = self.network, self.architecture
        batched = [layer for layer in net.layers if arch.spike_batch_of(layer) > 1]
        if not batched:
            return None
        size = arch.spike_batch
        rows = max(layer.n_in for layer in batched)
        return _SpikeBatch(size=size,
                           rows=Array(Signal(range(rows), name=f"batch_row{i}") for i in range(size)),
                           count=Signal(range(size + 1), name="batch_count"),
                           slot=Signal(range(size), name="batch_slot"),
                           end_of_step=Signal(name="batch_end_of_step"))

    # -- the sequencer's states ----------------------------------------------------------------------

    def _first_state(self) -> str:
        return "INTEGRATE0" if self.architecture.encoder is None else "LOAD"

    def _initialise_membranes(self, m: Module, engines: list[LayerEngine], c: "_Control", then: str) -> None:
        """One word per cycle in every layer at once: V = bias, the start of an inference."""
        words = self.architecture.words(self.network)
        for k, engine in enumerate(engines):
            with m.If(c.word < words[k]):
                m.d.comb += [engine.op.eq(LayerOp.INIT), engine.word.eq(c.word)]
        m.d.sync += c.word.eq(c.word + 1)
        with m.If(c.word == max(words) - 1):
            m.d.sync += c.word.eq(0)
            m.next = then

    def _power_on(self, m: Module, engines: list[LayerEngine], c: "_Control") -> None:
        with m.State("POWER_ON"):
            # Membrane memories have no reset: initialise them before the first inference.
            self._initialise_membranes(m, engines, c, self._first_state())

    def _load_pixels(self, m: Module, e: "_Encoder", c: "_Control") -> None:
        with m.State("LOAD"):
            # The inference's pixel words, once; the encoder draws every timestep from them.
            pixels = self.pixels_in
            m.d.comb += [pixels.ready.eq(1), e.unit.write_group.eq(e.load_group),
                         e.unit.write_data.eq(pixels.payload.intensities)]
            with m.If(pixels.valid):
                m.d.comb += [c.counting.eq(1), e.unit.write_enable.eq(1)]
                m.d.sync += e.load_group.eq(e.load_group + 1)
                with m.If(e.load_group == e.groups - 1):
                    m.d.sync += e.load_group.eq(0)
                    m.next = "INTEGRATE0"

    def _integrate_state(self, m: Module, k: int, engine: LayerEngine, walker: ConvTapWalker | None,
                         spike_maps: list[SpikeMap], c: "_Control", e: "_Encoder | None",
                         batch: "_SpikeBatch | None") -> None:
        """Layer k's input spikes of the timestep, one read-modify-write word per cycle each (or, for a
        batching layer, taken into the spike batch: DRAIN integrates them)."""
        last_word = self.architecture.words(self.network)[k] - 1
        batching = self.architecture.spike_batch_of(self.network.layers[k]) > 1

        def issue_walk() -> None:
            """The convolution's word of this cycle, when its address generator has one."""
            with m.If(walker.valid):
                m.d.comb += [engine.op.eq(LayerOp.INTEGRATE), engine.row.eq(walker.row),
                             engine.group.eq(walker.group), engine.word.eq(walker.word)]

        with m.State(f"INTEGRATE{k}"):
            with m.If(0 if batching else c.busy if walker is None else walker.busy):
                m.d.comb += c.counting.eq(1)
                if walker is None:
                    m.d.comb += [engine.op.eq(LayerOp.INTEGRATE), engine.row.eq(c.row), engine.group.eq(c.word),
                                 engine.word.eq(c.word)]
                    m.d.sync += c.word.eq(c.word + 1)
                    with m.If(c.word == last_word):
                        m.d.sync += c.busy.eq(0)
                else:
                    issue_walk()
            with m.Else():
                def begin_row(index) -> None:
                    """Issue the first word of input `index`'s spike now, the rest on the next cycles (or
                    take the spike into the batch, and drain the batch once it is full)."""
                    m.d.comb += c.counting.eq(1)
                    if batching:
                        m.d.sync += [batch.rows[batch.count].eq(index), batch.count.eq(batch.count + 1)]
                        with m.If(batch.count == batch.size - 1):
                            m.next = f"DRAIN{k}"
                        return
                    if walker is not None:
                        m.d.comb += [walker.start.eq(1), walker.index.eq(index)]
                        issue_walk()
                        return
                    m.d.comb += [engine.op.eq(LayerOp.INTEGRATE), engine.row.eq(index), engine.group.eq(0),
                                 engine.word.eq(0)]
                    if last_word > 0:
                        m.d.sync += [c.busy.eq(1), c.word.eq(1), c.row.eq(index)]

                def end_of_step() -> None:
                    m.d.comb += c.counting.eq(1)
                    m.d.sync += c.word.eq(0)
                    if batching:
                        with m.If(batch.count != 0):  # the last, partial batch first
                            m.d.sync += batch.end_of_step.eq(1)
                            m.next = f"DRAIN{k}"
                        with m.Else():
                            m.next = f"UPDATE{k}"
                    else:
                        m.next = f"UPDATE{k}"

                if k == 0 and e is not None:
                    # Drawn spikes first, lowest pixel first; then draw the next group.
                    with m.If(e.next_pixel.found):
                        begin_row(e.drawn_base + e.next_pixel.index)
                        m.d.sync += e.drawn.bit_select(e.next_pixel.index, 1).eq(0)
                    with m.Elif(e.draw_group < e.groups):
                        m.d.comb += [c.counting.eq(1), e.unit.draw.eq(1)]
                        m.d.sync += [e.drawn.eq(e.unit.spikes), e.drawn_base.eq(e.draw_group * e.lanes),
                                     e.draw_group.eq(e.draw_group + 1)]
                    with m.Else():
                        m.d.sync += e.draw_group.eq(0)
                        end_of_step()
                elif k == 0:
                    self._take_event(m, c, begin_row, end_of_step)
                else:
                    spike_map = spike_maps[k - 1]
                    with m.If(spike_map.found):
                        begin_row(spike_map.index)
                        m.d.comb += spike_map.take.eq(1)
                    with m.Else():
                        end_of_step()

    def _drain_state(self, m: Module, k: int, engine: LayerEngine, c: "_Control", batch: "_SpikeBatch") -> None:
        """The batched spikes into layer k, word after word: each word read by the batch's first spike's
        op, the sums passed from op to op in the datapath, written by the last spike's op. One cycle per
        spike and word; then back to taking spikes, or (after the timestep's last batch) the update."""
        last_word = self.architecture.words(self.network)[k] - 1
        last_slot = batch.slot == batch.count - 1
        with m.State(f"DRAIN{k}"):
            m.d.comb += [c.counting.eq(1), engine.op.eq(LayerOp.INTEGRATE), engine.row.eq(batch.rows[batch.slot]),
                         engine.group.eq(c.word), engine.word.eq(c.word),
                         engine.chained.eq(batch.slot != 0), engine.hold.eq(~last_slot)]
            m.d.sync += batch.slot.eq(batch.slot + 1)
            with m.If(last_slot):
                m.d.sync += [batch.slot.eq(0), c.word.eq(c.word + 1)]
                with m.If(c.word == last_word):
                    m.d.sync += [c.word.eq(0), batch.count.eq(0), batch.end_of_step.eq(0)]
                    with m.If(batch.end_of_step):
                        m.next = f"UPDATE{k}"
                    with m.Else():
                        m.next = f"INTEGRATE{k}"

    def _take_event(self, m: Module, c: "_Control", begin_row, end_of_step) -> None:
        """One input event: the end-of-step marker, a spike to integrate, or a bad index, which is
        dropped (one cycle) and flagged in the result: >= n_inputs, or not above the timestep's last."""
        events = self.events_in
        index = events.payload.index
        bad = (index >= self.network.n_inputs) | (c.seen_event & (index <= c.last_index))
        m.d.comb += events.ready.eq(1)
        with m.If(events.valid & events.payload.end_of_step):
            m.d.sync += c.seen_event.eq(0)
            end_of_step()
        with m.Elif(events.valid & bad):
            m.d.comb += c.counting.eq(1)
            m.d.sync += c.input_error.eq(1)
        with m.Elif(events.valid):
            begin_row(index)
            m.d.sync += [c.last_index.eq(index), c.seen_event.eq(1)]

    def _update_states(self, m: Module, k: int, engine: LayerEngine, c: "_Control") -> None:
        """Threshold, fire, reset, then the next step's leak and bias, one word per cycle; a settle
        cycle writes the last word back before the next layer reads the bitmap."""
        net = self.network
        last_word = self.architecture.words(net)[k] - 1
        with m.State(f"UPDATE{k}"):
            m.d.comb += [c.counting.eq(1), engine.op.eq(LayerOp.UPDATE), engine.word.eq(c.word)]
            m.d.sync += c.word.eq(c.word + 1)
            with m.If(c.word == last_word):
                m.next = f"SETTLE{k}"
        with m.State(f"SETTLE{k}"):
            m.d.comb += c.counting.eq(1)
            m.d.sync += c.word.eq(0)
            if k + 1 < len(net.layers):
                m.next = f"INTEGRATE{k + 1}"
            else:
                check = c.timestep == net.timesteps - 1
                if net.early_exit is not None:
                    check = check | (c.timestep >= net.early_exit.min_steps - 1)
                with m.If(check):
                    m.d.sync += c.class_index.eq(0)
                    m.next = "SCAN"
                with m.Else():
                    m.d.sync += c.timestep.eq(c.timestep + 1)
                    m.next = "INTEGRATE0"

    def _scan_state(self, m: Module, readout: Array, c: "_Control") -> None:
        """One class per cycle: argmax (lowest index on ties) and the two largest values."""
        with m.State("SCAN"):
            m.d.comb += c.counting.eq(1)
            value = readout[c.class_index]
            with m.If((c.class_index == 0) | (value > c.top1)):
                m.d.sync += [c.top1.eq(value), c.top1_class.eq(c.class_index),
                             c.top2.eq(signed_range(self.network.readout_bits)[0])]
                with m.If(c.class_index != 0):
                    m.d.sync += c.top2.eq(c.top1)
            with m.Elif(value > c.top2):
                m.d.sync += c.top2.eq(value)
            m.d.sync += c.class_index.eq(c.class_index + 1)
            with m.If(c.class_index == self.network.n_classes - 1):
                m.next = "DECIDE"

    def _decide_state(self, m: Module, c: "_Control") -> None:
        """The last timestep, or SEENN-I's integer rule: top1 - top2 >= margin after min_steps."""
        net = self.network
        with m.State("DECIDE"):
            m.d.comb += c.counting.eq(1)
            finish = c.timestep == net.timesteps - 1
            if net.early_exit is not None:
                margin = Signal(signed(net.readout_bits + 1))
                m.d.comb += margin.eq(c.top1 - c.top2)
                finish = finish | ((c.timestep >= net.early_exit.min_steps - 1) & (margin >= net.early_exit.margin))
            with m.If(finish):
                m.d.sync += [c.used.eq(c.timestep + 1), c.word.eq(0)]
                m.next = "INIT"
            with m.Else():
                m.d.sync += c.timestep.eq(c.timestep + 1)
                m.next = "INTEGRATE0"

    def _init_state(self, m: Module, engines: list[LayerEngine], c: "_Control") -> None:
        with m.State("INIT"):
            m.d.comb += c.counting.eq(1)
            self._initialise_membranes(m, engines, c, "RESULT")

    def _result_state(self, m: Module, readout: Array, c: "_Control", e: "_Encoder | None") -> None:
        """Hold the result until the host takes it, then start the next inference."""
        net = self.network
        with m.State("RESULT"):
            m.d.comb += [self.result.valid.eq(1), self.result.payload.predicted.eq(c.top1_class),
                         self.result.payload.timesteps.eq(c.used)]
            for j in range(net.n_classes):
                m.d.comb += self.result.payload.readout[j].eq(readout[j])
            with m.If(self.result.ready):
                m.d.sync += [c.cycles.eq(0), c.input_error.eq(0), c.seen_event.eq(0),
                             *(readout[j].eq(0) for j in range(net.n_classes))]
                if e is not None:
                    # Pixels come once per inference: nothing to discard after an early exit.
                    m.d.comb += e.unit.restart.eq(1)
                    m.d.sync += c.timestep.eq(0)
                    m.next = "LOAD"
                else:
                    with m.If(c.used == net.timesteps):
                        m.d.sync += c.timestep.eq(0)
                        m.next = "INTEGRATE0"
                    with m.Else():
                        m.d.sync += c.timestep.eq(c.used)
                        m.next = "DISCARD"

    def _discard_state(self, m: Module, c: "_Control") -> None:
        """After an early exit: take the inference's remaining input entries, unused and unchecked."""
        events = self.events_in
        with m.State("DISCARD"):
            m.d.comb += events.ready.eq(1)
            with m.If(events.valid & events.payload.end_of_step):
                with m.If(c.timestep == self.network.timesteps - 1):
                    m.d.sync += c.timestep.eq(0)
                    m.next = "INTEGRATE0"
                with m.Else():
                    m.d.sync += c.timestep.eq(c.timestep + 1)


@dataclass(frozen=True)
class _Control:
    """The sequencer's registers."""

    timestep: Signal
    used: Signal
    busy: Signal
    row: Signal
    word: Signal
    class_index: Signal
    top1_class: Signal
    top1: Signal
    top2: Signal
    cycles: Signal
    counting: Signal
    last_index: Signal
    seen_event: Signal
    input_error: Signal


@dataclass(frozen=True)
class _SpikeBatch:
    """The input spikes a batching dense layer has taken and not yet integrated."""

    size: int
    rows: Array           # the spikes' input indices (weight rows), in the order taken
    count: Signal         # spikes in the buffer
    slot: Signal          # the spike DRAIN integrates this cycle
    end_of_step: Signal   # the timestep's input has ended: after this drain, the update


@dataclass(frozen=True)
class _Encoder:
    unit: RateEncoderUnit
    next_pixel: LowestSetBit
    groups: int
    lanes: int
    load_group: Signal
    draw_group: Signal
    drawn: Signal
    drawn_base: Signal
