"""The SRAM macros' energy is priced from the reference's access counts: the compiled gate-level
simulation counts the reads and writes the mapped netlist makes, and they must be the model's,
inference by inference, for every memory, banked, batched and convolutional cores included."""

import dataclasses

import numpy as np
import pytest

from flows.eda.compiled_gate_level import simulate_compiled
from flows.eda.liberty_library import CellLibrary
from flows.energy.macro_accesses import MacroAccessMismatch, check_macro_accesses, macro_memory
from hw.verilog import TOP_NAME
from model.architecture import CoreArchitecture, MemoryStyle
from model.compiled import EarlyExit
from model.convolution import ConvShape
from mapped_core import mapped_core
from network_factory import NetworkSpec, random_network
from sim.cycles import memory_accesses
from sim.reference import ref_run

LIBRARY = CellLibrary.OSU018

CASES = {
    "macros-early-exit": (NetworkSpec(sizes=(12, 7, 3), seed=4, timesteps=4, early_exit=EarlyExit(min_steps=1, margin=6)),
                          CoreArchitecture(lanes=2, memories=MemoryStyle.SRAM_MACROS)),
    "banked-spike-batch": (NetworkSpec(sizes=(20, 9, 4), seed=8, timesteps=3),
                           CoreArchitecture(lanes=2, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=4,
                                            spike_batch=3, operand_isolation=True)),
    "convolution-sram-weights": (NetworkSpec(sizes=(60, 3), image=(1, 6, 5), seed=6, timesteps=3,
                                             convolutions=(ConvShape(out_channels=2, kernel=3, stride=1, padding=1),)),
                                 CoreArchitecture(lanes=2, memories=MemoryStyle.SRAM_WEIGHTS)),
    "convolutions-macros": (NetworkSpec(sizes=(6, 4), image=(2, 7, 6), seed=9, timesteps=3,
                                        convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),
                                                      ConvShape(out_channels=3, kernel=2, stride=2, padding=0))),
                            CoreArchitecture(lanes=2, memories=MemoryStyle.SRAM_MACROS, spike_batch=2)),
}


def _simulate(tmp_path, spec: NetworkSpec, arch: CoreArchitecture, images: int = 4):
    net = random_network(spec)
    inputs = np.random.default_rng(spec.seed).random((images, net.timesteps, net.n_inputs)) < 0.4
    core = mapped_core(tmp_path, net, arch, LIBRARY)
    run, _ = simulate_compiled(core.netlist.netlist_json, net, arch, inputs, top=TOP_NAME, library=LIBRARY,
                               clock_period_ns=10.0, max_cycles=10**6, out_dir=tmp_path / "compiled", macros=core.shapes)
    return net, run, ref_run(net, inputs)


@pytest.mark.parametrize("case", CASES)
def test_the_netlist_makes_exactly_the_accesses_the_energy_model_prices(tmp_path, case):
    spec, arch = CASES[case]
    net, run, reference = _simulate(tmp_path, spec, arch)
    assert [r["predicted"] for r in run.results] == reference.predicted.tolist()
    counts = run.macro_accesses
    assert counts is not None and counts.reads, "the core has macros and the engine counted them"
    assert sum(int(reads[:-1].sum()) for reads in counts.reads.values()) > 0
    assert all(int(reads[-1]) == 0 for reads in counts.reads.values()), "nothing after the last result"
    model = memory_accesses(net, arch, reference)
    check_macro_accesses(counts, model, arch.words(net), tmp_path)
    # The check can fail: one weight read fewer in the model than the netlist made, in the last inference.
    weight_layer = next(layer for layer, kind in map(macro_memory, counts.reads) if kind == "weights")
    short = model.weight_reads.copy()
    short[-1, weight_layer] -= 1
    with pytest.raises(MacroAccessMismatch, match=f"layer {weight_layer} weights reads in inference {len(short) - 1}"):
        check_macro_accesses(counts, dataclasses.replace(model, weight_reads=short), arch.words(net), tmp_path)


def test_a_name_that_is_not_a_core_macro_is_refused():
    assert macro_memory("sram_layer2_weights_bank11") == (2, "weights")
    with pytest.raises(ValueError, match="not one of the core's SRAM macros"):
        macro_memory("sram_layer2_thresholds")
