"""The generated Verilog under cocotb on Icarus against the reference: every spike of every layer,
the result and the cycle count, with exact equality."""

from dataclasses import dataclass

import pytest

from model.architecture import CoreArchitecture, MemoryStyle
from model.compiled import EarlyExit, Integration, Readout, Reset
from model.architecture import RateEncoder
from model.convolution import ConvShape
from network_factory import NetworkSpec, random_inputs, random_network, random_spikes
from sim.rate_encoder import core_input_spikes
from sim.compare import compare_with_reference
from sim.rtl_run import rtl_run


@dataclass(frozen=True)
class Case:
    name: str
    spec: NetworkSpec
    lanes: int
    gaps: float = 0.0
    backpressure: float = 0.0
    rate: float = 0.4
    encoder: RateEncoder | None = None
    memories: MemoryStyle = MemoryStyle.FLIP_FLOPS
    weight_bank_words: int | None = None
    spike_batch: int = 1
    operand_isolation: bool = False


CASES = [
    Case("two-layer", NetworkSpec(sizes=(12, 10, 4), seed=11), lanes=4),
    Case("one-lane", NetworkSpec(sizes=(9, 6, 3), seed=12), lanes=1),
    Case("lanes-equal-n_out", NetworkSpec(sizes=(8, 6, 3), seed=13), lanes=6),
    Case("uneven-lanes-zero-reset", NetworkSpec(sizes=(10, 7, 5), reset=Reset.ZERO, leak_shift=None, seed=14),
         lanes=3),
    Case("three-layers-discontinuous", NetworkSpec(sizes=(14, 9, 8, 4), integration=Integration.DISCONTINUOUS,
                                                   seed=15), lanes=4),
    # snnTorch's default Leaky: the threshold comes off after the leak, which can leave V below 0.
    Case("subtract-after-leak", NetworkSpec(sizes=(12, 10, 4), reset=Reset.SUBTRACT_AFTER_LEAK, leak_shift=2,
                                            timesteps=6, seed=27), lanes=4, rate=0.6),
    Case("subtract-after-leak-discontinuous-saturating",
         NetworkSpec(sizes=(12, 8, 3), weight_bits=6, membrane_bits=6, reset=Reset.SUBTRACT_AFTER_LEAK,
                     integration=Integration.DISCONTINUOUS, seed=28), lanes=3),
    Case("binary-weights", NetworkSpec(sizes=(10, 7, 3), weight_bits=1, seed=16), lanes=2),
    Case("16-bit-weights", NetworkSpec(sizes=(6, 5, 3), weight_bits=16, timesteps=3, seed=17), lanes=2),
    Case("membrane-readout", NetworkSpec(sizes=(10, 8, 4), readout=Readout.MEMBRANE, weight_bits=6, seed=18),
         lanes=4),
    # Margins chosen so that some images exit early and some do not (checked with the reference).
    Case("early-exit", NetworkSpec(sizes=(12, 10, 4), timesteps=6, readout=Readout.MEMBRANE, weight_bits=6,
                                   early_exit=EarlyExit(min_steps=2, margin=20), seed=19), lanes=4, rate=0.5),
    Case("saturating-membranes", NetworkSpec(sizes=(12, 8, 3), weight_bits=6, membrane_bits=6, seed=20), lanes=4),
    Case("gaps-and-backpressure", NetworkSpec(sizes=(10, 8, 4), timesteps=5, readout=Readout.MEMBRANE,
                                              weight_bits=6, early_exit=EarlyExit(min_steps=1, margin=60), seed=21),
         lanes=3, gaps=0.3, backpressure=0.5),
    Case("on-chip-encoder", NetworkSpec(sizes=(21, 9, 4), seed=23), lanes=4, encoder=RateEncoder(lanes=8, seed=2)),
    Case("on-chip-encoder-one-lane-early-exit", NetworkSpec(sizes=(7, 6, 3), timesteps=6, readout=Readout.MEMBRANE,
                                                            weight_bits=6, early_exit=EarlyExit(min_steps=1, margin=30),
                                                            seed=24),
         lanes=2, gaps=0.3, backpressure=0.3, encoder=RateEncoder(lanes=1, seed=9)),
    # SRAM macros: their models have no read-during-write bypass, so the engine's own forwarding is
    # exercised by back-to-back spikes of one row's words (one lane: every op hits the word before).
    Case("macros-one-lane", NetworkSpec(sizes=(9, 6, 3), seed=25), lanes=1, rate=0.6, memories=MemoryStyle.SRAM_MACROS),
    Case("macros-early-exit-saturating", NetworkSpec(sizes=(12, 10, 4), timesteps=6, readout=Readout.MEMBRANE,
                                                     weight_bits=6, membrane_bits=7,
                                                     early_exit=EarlyExit(min_steps=2, margin=5), seed=26),
         lanes=4, rate=0.5, gaps=0.3, backpressure=0.5, memories=MemoryStyle.SRAM_MACROS),
    # Banked weight macros (hw/banked_macro.py): 12 rows x 3 words in banks of 8 words (the last padded),
    # the 4-neuron layer's 10 rows x 1 word in two; a read whose bank differs from the last one's.
    Case("macros-banked-early-exit", NetworkSpec(sizes=(12, 10, 4), timesteps=6, readout=Readout.MEMBRANE,
                                                 weight_bits=6, early_exit=EarlyExit(min_steps=2, margin=5), seed=29),
         lanes=4, rate=0.5, gaps=0.3, backpressure=0.5, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=8),
    # Weights and biases in (banked) macros, membranes in flip-flops.
    Case("sram-weights-banked", NetworkSpec(sizes=(12, 10, 4), timesteps=5, weight_bits=6, seed=30), lanes=4, rate=0.5,
         gaps=0.3, backpressure=0.5, memories=MemoryStyle.SRAM_WEIGHTS, weight_bank_words=8),
    # Spike batches (CoreArchitecture.spike_batch): full batches, a partial last one, and empty timesteps;
    # three layers, one of them a single word (every op of a batch chained on that word); operand isolation.
    Case("spike-batch-early-exit", NetworkSpec(sizes=(14, 9, 8, 3), timesteps=6, readout=Readout.MEMBRANE,
                                               weight_bits=6, early_exit=EarlyExit(min_steps=2, margin=10), seed=31),
         lanes=3, rate=0.4, gaps=0.3, backpressure=0.5, spike_batch=4, operand_isolation=True),
    # In macros (no read-during-write bypass: the batch's write then the next batch's or the update's read
    # of the same word), saturating membranes, one lane (a word per neuron), a batch of 3 (not a power of two).
    Case("spike-batch-macros-saturating", NetworkSpec(sizes=(10, 6, 3), weight_bits=6, membrane_bits=6,
                                                      reset=Reset.SUBTRACT_AFTER_LEAK, seed=32),
         lanes=1, rate=0.6, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=4, spike_batch=3),
    # A batch larger than any timestep's spikes: one pass per timestep (output-stationary); the encoder.
    Case("spike-batch-whole-step-encoder", NetworkSpec(sizes=(21, 9, 4), seed=33), lanes=4,
         encoder=RateEncoder(lanes=8, seed=4), spike_batch=64),
    # Convolutions (hw/conv_taps.py). Stride 2 with padding on an odd 7x6 image of two channels; 3 lanes
    # on 4 output channels use 2 lanes and 2 words per position.
    Case("conv-stride-2-padding", NetworkSpec(sizes=(48, 5), image=(2, 7, 6), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),),
                                              seed=41), lanes=3, rate=0.3),
    # 11x11, kernel 4, stride 2, no padding: the last row and column reach no output (a tapless spike
    # costs the cycle that takes it); membrane readout with early exit.
    Case("conv-border-inputs-early-exit", NetworkSpec(sizes=(32, 4), image=(1, 11, 11),
                                                      convolutions=(ConvShape(out_channels=2, kernel=4, stride=2, padding=0),), timesteps=6,
                                                      readout=Readout.MEMBRANE, weight_bits=6,
                                                      early_exit=EarlyExit(min_steps=2, margin=40), seed=41),
         lanes=2, rate=0.5),
    # Two convolutions, the second the output layer (its readout: every position and channel).
    Case("conv-two-layers-conv-output", NetworkSpec(sizes=(), image=(1, 5, 5), readout=Readout.MEMBRANE, weight_bits=6,
                                                    convolutions=(ConvShape(out_channels=3, kernel=3, stride=1, padding=1), ConvShape(out_channels=2, kernel=2, stride=2, padding=0)),
                                                    seed=42), lanes=2),
    # Stride 3, a kernel wider than the stride, membranes that saturate, snnTorch's reset, SRAM macros.
    Case("conv-saturating-macros", NetworkSpec(sizes=(), image=(3, 9, 8), convolutions=(ConvShape(out_channels=6, kernel=5, stride=3, padding=2),),
                                               reset=Reset.SUBTRACT_AFTER_LEAK, membrane_bits=6, seed=43),
         lanes=4, memories=MemoryStyle.SRAM_MACROS),
    Case("conv-banked-macros", NetworkSpec(sizes=(54, 5), image=(2, 6, 6), convolutions=(ConvShape(out_channels=6, kernel=3, stride=2, padding=1),),
                                           seed=46), lanes=3, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=4),
    Case("conv-gaps-and-backpressure", NetworkSpec(sizes=(75, 10, 3), image=(2, 5, 5), timesteps=5,
                                                   convolutions=(ConvShape(out_channels=3, kernel=3, stride=1, padding=1),),
                                                   integration=Integration.DISCONTINUOUS, seed=44),
         lanes=3, gaps=0.3, backpressure=0.5),
    Case("conv-on-chip-encoder", NetworkSpec(sizes=(24, 4), image=(1, 6, 7), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=0),),
                                             seed=45), lanes=4, encoder=RateEncoder(lanes=8, seed=3)),
    # A convolution (spike by spike) before dense layers that batch.
    Case("conv-then-spike-batch", NetworkSpec(sizes=(48, 7, 3), image=(2, 7, 6), convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),),
                                              seed=47), lanes=3, rate=0.4, memories=MemoryStyle.SRAM_MACROS, spike_batch=5,
         operand_isolation=True),
]


# Verilator runs the cases that stress the protocol and the arithmetic; its build takes 15-25 s.
VERILATOR_CASES = {"three-layers-discontinuous", "early-exit", "gaps-and-backpressure", "saturating-membranes",
                   "on-chip-encoder", "macros-early-exit-saturating", "conv-stride-2-padding",
                   "conv-saturating-macros", "conv-gaps-and-backpressure", "macros-banked-early-exit",
                   "sram-weights-banked", "spike-batch-early-exit", "spike-batch-macros-saturating"}
RUNS = [pytest.param(case, "icarus", id=f"{case.name}-icarus") for case in CASES] + [
    pytest.param(case, "verilator", id=f"{case.name}-verilator") for case in CASES if case.name in VERILATOR_CASES]


@pytest.mark.parametrize("case, simulator", RUNS)
def test_rtl_equals_reference_on_random_networks(case, simulator, tmp_path):
    net = random_network(case.spec)
    arch = CoreArchitecture(lanes=case.lanes, trace=True, encoder=case.encoder, memories=case.memories,
                            weight_bank_words=case.weight_bank_words, spike_batch=case.spike_batch,
                            operand_isolation=case.operand_isolation)
    inputs = random_inputs(net, arch, images=6, rate=case.rate, seed=case.spec.seed)
    observation = rtl_run(net, arch, inputs, work_dir=tmp_path, seed=case.spec.seed, gap_probability=case.gaps,
                          backpressure_probability=case.backpressure, simulator=simulator)
    spikes = core_input_spikes(net, arch, inputs)
    comparison = compare_with_reference(net, arch, spikes, observation)
    print(f"seed {case.spec.seed}: cycles {observation.cycles.tolist()}")
    assert comparison.first_mismatch is None, f"seed {case.spec.seed}: {comparison.first_mismatch}"
    assert comparison.mismatched_images == () and comparison.cycle_mismatches == 0
    assert observation.trace.shape[0] > 0, "no spikes traced: the case proves nothing"
    if case.spec.membrane_bits is not None:
        assert net.can_saturate()
    if case.spec.early_exit is not None:
        assert (comparison.reference.timesteps_used < net.timesteps).any(), "no image exited early"
    if case.gaps:
        assert observation.input_gaps > 0 and (observation.observed_cycles > observation.cycles).any()


def test_a_mismatch_names_image_timestep_layer_and_neuron(tmp_path):
    net = random_network(NetworkSpec(sizes=(8, 6, 3), seed=22))
    arch = CoreArchitecture(lanes=3, trace=True)
    spikes = random_spikes(net, images=3, rate=0.5, seed=22)
    observation = rtl_run(net, arch, spikes, work_dir=tmp_path)
    # Drop the first traced spike: the checker must point at it.
    tampered = type(observation)(**{**observation.__dict__, "trace": observation.trace[1:]})
    image, timestep, layer, neuron = observation.trace[0]
    comparison = compare_with_reference(net, arch, spikes, tampered)
    assert comparison.first_mismatch.startswith(
        f"image {image}, timestep {timestep}, layer {layer}, neuron {neuron}: RTL spike 0, reference 1")
    assert image in comparison.mismatched_images


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_images_split_over_processes_give_what_one_process_sees(simulator, tmp_path):
    net = random_network(NetworkSpec(sizes=(10, 8, 4), timesteps=4, seed=31))
    arch = CoreArchitecture(lanes=3, trace=True)
    spikes = random_spikes(net, images=7, rate=0.4, seed=31)
    whole = rtl_run(net, arch, spikes, work_dir=tmp_path / "one", simulator=simulator)
    split = rtl_run(net, arch, spikes, work_dir=tmp_path / "three", simulator=simulator, processes=3)
    assert len(list((tmp_path / "three").glob("slice*/observation.npz"))) == 3, "three simulator processes"
    for name in ("trace", "predicted", "timesteps", "cycles", "readout", "observed_cycles"):
        assert (getattr(split, name) == getattr(whole, name)).all(), name
    assert set(split.trace[:, 0]) == set(range(7)), "every image's spikes, numbered over the whole run"
    assert compare_with_reference(net, arch, spikes, split).first_mismatch is None


def test_processes_must_be_a_positive_integer(tmp_path):
    net = random_network(NetworkSpec(sizes=(6, 5, 3), seed=32))
    with pytest.raises(ValueError, match="processes must be a positive integer"):
        rtl_run(net, CoreArchitecture(lanes=2, trace=True), random_spikes(net, images=2, rate=0.4, seed=32),
                work_dir=tmp_path, processes=0)
