"""The power step: energy per inference from real activity of the mapped netlist on real test
inferences, with the analytical and OpenSTA cross-checks beside it."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.eda.compiled_gate_level import ENGINE_SOURCE, simulate_compiled
from flows.eda.gate_level import simulate_netlist
from flows.eda.liberty_library import CellLibrary, read_liberty
from flows.eda.sta_power import sta_report_power
from flows.eda.vcd_activity import count_toggles
from flows.energy.analytical import analytical_energy_nj, operation_energies
from flows.energy.by_block import HierarchicalNetlist, energy_by_block
from flows.energy.macro_accesses import check_macro_accesses, macro_memory
from flows.energy.sram_macros import MODEL_DESCRIPTION, MacroSet
from flows.energy.sample_mean import SampleMean
from flows.energy.toggle_energy import INPUT_TRANSITION_NS, build_net_model, estimate_energy
from flows.engine.figures import measured, modelled, setting
from flows.engine.step import Artifact, Step, StepOutcome
from flows.engine.typed_json import to_jsonable
from flows.steps.test_set import EncodedTestSet
from flows.steps.timing import TimingMetrics
from flows.steps.verify import VerificationError
from hw.core import core_sram_macros
from hw.verilog import TOP_NAME
from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork
from sim.cycles import MemoryAccesses, memory_accesses, predict_cycles
from sim.port_codec import PortCodec
from sim.reference import ref_run


# How the mapped netlist is simulated for its activity: the compiled engine (the default, seconds
# per inference) or Icarus with a VCD (the cross-check it was tested equal to; hours on large cores).
GATE_SIMULATORS = ("compiled", "icarus")
METHODS = {
    "compiled": "gate-level simulation (spikefab's compiled two-state cycle simulation of the mapped netlist, "
                "cells from their liberty functions, zero delay; SRAM macro accesses counted and checked equal "
                "to the model's)",
    "icarus": "gate-level simulation (Icarus, zero delay, VCD) of the mapped netlist",
}


def check_gate_simulator(name: str, *, field: str) -> None:
    if name not in GATE_SIMULATORS:
        raise ValueError(f"{field} must be one of {', '.join(GATE_SIMULATORS)}, not {name!r}")


@dataclass(frozen=True, kw_only=True)
class PowerStepConfig:
    architecture: CoreArchitecture  # simulated without the trace port whatever its trace setting
    library: CellLibrary
    images: int                     # the first test images, simulated at gate level
    simulator: str = "compiled"     # one of GATE_SIMULATORS

    def __post_init__(self) -> None:
        check_gate_simulator(self.simulator, field="the gate-level simulator")


@dataclass(frozen=True, kw_only=True)
class OpenStaCrossCheck:
    method: str = setting("how OpenSTA was driven")
    input_activity_per_cycle: float = measured("toggles/cycle", "mean toggle rate of the data input ports")
    power_mw: float = modelled("mW", "OpenSTA report_power with that input activity (it propagates its own)")
    nj_per_inference: float = modelled("nJ", "power x mean cycles x clock period, plus the macros' accesses")
    over_gate_level: float = modelled("ratio", "nj_per_inference / the gate-level figure")


@dataclass(frozen=True, kw_only=True)
class PowerMetrics:
    method: str = setting("how the logic's energy was measured")
    activity_source: str = setting("where the toggles come from")
    activity_coverage: float = measured("fraction", "share of the netlist's driven bits the VCD covers")
    toggled_net_share: float = measured("fraction", "share of those bits that toggled at least once")
    images: int = measured("", "inferences simulated at gate level (the first test images): the sample size")
    clock_period_ns: float = setting("the clock of the simulation", "ns")
    input_transition_ns: float = setting("the slew used for every internal-energy table look-up", "ns")
    # A figure with a modelled part is a modelled figure: the totals below add the SRAM macros' modelled
    # accesses to the logic's measured energy, so they are labelled modelled even where the macros'
    # share is zero (flip-flop memories); the logic_* figures are the measured part alone.
    nj_per_inference: float = modelled(
        "nJ", "mean energy per inference over `images`: the logic (measured) plus the SRAM macros' accesses and "
        "leakage (modelled; zero with flip-flop memories, where this equals logic_nj_per_inference)")
    nj_per_inference_ci95: tuple[float, float] | None = modelled(
        "nJ", "95% confidence interval of that mean (Student's t over the images); null for one image")
    nj_per_inference_each: tuple[float, ...] = modelled("nJ", "each simulated inference, logic plus macros")
    logic_nj_per_inference: float = measured("nJ", "the logic alone: gate-level toggles x liberty energies + leakage")
    logic_nj_per_inference_ci95: tuple[float, float] | None = measured(
        "nJ", "95% confidence interval of the logic's mean (Student's t over the images); null for one image")
    sram_macro_nj_per_inference: float = modelled(
        "nJ", "the macros alone: the reference's exact access counts x the macro model's per-access energies, "
        "plus the model's leakage x each inference's simulated time")
    nj_per_inference_by_class: dict[str, float] = modelled(
        "nJ", "the simulated inferences (logic plus macros) grouped by true class")
    nj_per_inference_spread: float = modelled("fraction", "standard deviation / mean of the totals over the images")
    pj_per_sop: float = modelled("pJ/SOP", "total energy (logic plus macros) / synaptic operations of the "
                                 "simulated inferences")
    logic_pj_per_sop: float = measured("pJ/SOP", "the logic's energy / synaptic operations of the simulated "
                                       "inferences")
    sops_per_inference_mean: float = measured("SOPs", "synaptic operations of the simulated inferences, mean")
    breakdown_nj_per_inference: dict[str, float] = modelled(
        "nJ", "by mechanism: switching, internal, leakage (measured); sram_macro_accesses and sram_macro_leakage "
        "(modelled)")
    breakdown: dict[str, float] = modelled(
        "nJ", "by what it does: memory reads, membrane updates, control, leakage (the macros' part modelled)")
    breakdown_method: str = setting("how the split by what it does was made")
    logic_by_block_nj_per_inference_hierarchical: dict[str, float] = measured(
        "nJ", "dynamic energy by block in a gate-level simulation of the hierarchical netlist")
    leakage_nw: float = measured("nW", "the logic's cell leakage")
    sram_macro_leakage_nw: float = modelled("nW", "the macros' leakage (flows/energy/sram_macros.py)")
    analytical_nj_per_inference: float = modelled(
        "nJ", "cross-check: operations counted by the reference x per-operation energies from the liberty")
    analytical_terms_nj: dict[str, float] = modelled("nJ", "the analytical cross-check's terms")
    analytical_over_gate_level: float = modelled("ratio", "analytical / gate-level")
    opensta_cross_check: OpenStaCrossCheck = modelled("", "OpenSTA's power as a labelled cross-check")
    supply_v: float = setting("the liberty's supply", "V")
    feature_nm: float = setting("the library's feature size", "nm")
    memory_model: str = setting("how the memories' energy is counted")

def _input_port_activity(module: dict, activity, period_ns: float) -> float:
    """Toggles per clock period, averaged over the data input ports' bits (not clock or reset)."""
    inputs = {name for name, port in module["ports"].items()
              if port["direction"] == "input" and name not in ("clk", "rst")}
    columns = [i for i, (name, _) in enumerate(activity.signals) if name in inputs]
    if not columns:
        raise ValueError("the gate-level VCD has none of the core's input ports")
    toggles = (activity.rises[:, columns] + activity.falls[:, columns]).sum()
    return float(toggles) / len(columns) / ((activity.end_ns - activity.start_ns) / period_ns)


def _flip_flops(module: dict) -> int:
    return sum(1 for cell in module["cells"].values() if cell["type"].startswith("DFF"))


def macro_access_energy_pj(macros: MacroSet, accesses: MemoryAccesses) -> dict[str, np.ndarray]:
    """Per inference, the SRAM macros' access energy by memory kind (weights, biases, membranes):
    the reference's exact access counts (the compiled gate-level simulation checks them equal to the
    netlist's, flows/energy/macro_accesses.py) x each macro's read and write energies. Zero without macros.
    A banked weight memory's banks share one shape, and every read enables one of them: the layer's
    reads are priced once, at a bank's read energy."""
    images = accesses.weight_reads.shape[0]
    out = {kind: np.zeros(images) for kind in ("weights", "biases", "membranes")}
    memories = {}
    for name, macro in macros.macros.items():
        memories.setdefault(macro_memory(name), []).append(macro)
    for (layer, kind), banks in memories.items():
        if len({(bank.read_pj, bank.write_pj) for bank in banks}) != 1:
            raise ValueError(f"layer {layer}'s {kind} banks differ in access energy: their reads cannot be priced once")
        macro = banks[0]
        if kind == "weights":
            out[kind] += accesses.weight_reads[:, layer] * macro.read_pj
        elif kind == "biases":
            out[kind] += accesses.bias_reads[:, layer] * macro.read_pj
        else:
            out[kind] += (accesses.membrane_reads[:, layer] * macro.read_pj
                          + accesses.membrane_writes[:, layer] * macro.write_pj)
    return out


def gate_level_cycle_budget(core_cycles: np.ndarray, entries: int) -> int:
    """Clock cycles a gate-level run may take before it counts as hung: the core's working cycles and
    one per input entry the host sends (the core takes it, or after an early exit discards it, a
    cycle each; neither is in the core's own count), twice over, plus a margin. With early exit the
    entries can outnumber the working cycles: 784-128-10 at 32 lanes works ~460 cycles per inference
    and is sent ~900 entries."""
    return int(2 * (core_cycles.sum() + entries) + 1000)


def _window_durations_ns(activity, run) -> np.ndarray:
    """Each inference's simulated time (for leakage), and a last empty window after the last result."""
    return np.append(np.diff(np.concatenate([[activity.start_ns], run.result_times_ns])), 0.0)


def _check_gate_level(run, reference, cycles, folder: Path) -> None:
    """A gate-level run must give the reference's classes and cycle counts, exactly."""
    predicted = np.array([r["predicted"] for r in run.results])
    gate_cycles = np.array([r["cycles"] for r in run.results])
    if not (np.array_equal(predicted, reference.predicted) and np.array_equal(gate_cycles, cycles.cycles)):
        raise VerificationError("the gate-level netlist disagrees with the reference on "
                                f"{int((predicted != reference.predicted).sum())} classes or cycle counts; see {folder}")


# The categories as the blocks of flows/area_by_block.py.
CATEGORY_BLOCKS = {
    "memory_reads": ("weight_memory", "bias_memory"),
    "membrane_updates": ("membrane_memory", "datapath", "readout"),
    "control": ("control", "encoder"),
}


def energy_by_category(macro_pj: dict[str, np.ndarray], logic_dynamic_nj: float, leakage_nj: float,
                       block_dynamic_nj: dict[str, float]) -> dict[str, float]:
    """nJ per inference by what it does: memory reads (the weight and bias memories), membrane updates
    (the membrane memories and the layers' arithmetic), control (sequencer, spike scan, encoder) and
    leakage (the logic's and the macros'). The macros' accesses go to their memory; the logic's dynamic energy (the flat netlist's,
    the headline) is split by the blocks' shares measured on the hierarchical netlist."""
    total_blocks = sum(block_dynamic_nj.values())
    share = {block: value / total_blocks for block, value in block_dynamic_nj.items()} if total_blocks else {}
    macro_nj = {"memory_reads": float((macro_pj["weights"] + macro_pj["biases"]).mean() / 1000),
                "membrane_updates": float(macro_pj["membranes"].mean() / 1000), "control": 0.0}
    split = {category: macro_nj[category] + logic_dynamic_nj * sum(share.get(b, 0.0) for b in blocks)
             for category, blocks in CATEGORY_BLOCKS.items()}
    return {**split, "leakage": leakage_nj}


class PowerStep(Step):
    """Energy per inference from real activity of the mapped netlist on real test inferences."""

    id = "power"
    inputs = (Artifact.NETLIST, Artifact.NETLIST_JSON, Artifact.NETWORK, Artifact.TEST_SET, Artifact.TIMING,
              Artifact.MACROS, Artifact.HIERARCHICAL_NETLIST, Artifact.HIERARCHICAL_NETLIST_JSON)
    outputs = (Artifact.ENERGY,)
    Metrics = PowerMetrics
    tools = ("iverilog", "vvp", "sta", "gcc")

    def tool_files(self) -> dict[str, Path]:
        return {"liberty": self.config.library.require(), "gate_level_engine": ENGINE_SOURCE}

    def _gate_level(self, netlist: Path, netlist_json: Path, net, arch, test, macros: MacroSet, period: float,
                    budget: int, folder: Path, *, instances: tuple[tuple[str, ...], ...] = (),
                    hierarchical: bool = False):
        """The test images through the mapped netlist: the run (results and their times) and every net's
        toggles per inference, from the configured simulator."""
        inputs = test.core_inputs(arch)
        if self.config.simulator == "compiled":
            return simulate_compiled(netlist_json, net, arch, inputs, top=TOP_NAME, library=self.config.library,
                                     clock_period_ns=period, max_cycles=budget, out_dir=folder,
                                     macros=core_sram_macros(net, arch))
        run = simulate_netlist(netlist, net, arch, inputs, library=self.config.library, clock_period_ns=period,
                               max_cycles=budget, out_dir=folder, macro_models=macros.models, instances=instances)
        activity = count_toggles(run.vcd, run.result_times_ns, hierarchical=hierarchical)
        run.vcd.unlink()  # hundreds of MB; the toggle counts are what matter, and they are kept
        return run, activity

    def _energy_by_block(self, inputs, net, arch, test, reference, cycles, macros: MacroSet, liberty, period: float,
                         budget: int, folder: Path) -> dict[str, float]:
        """The logic's dynamic nJ per inference by block, from the hierarchical netlist simulated on the
        same inferences (checked against the reference like the flat one)."""
        hierarchical = HierarchicalNetlist.load(inputs[Artifact.HIERARCHICAL_NETLIST_JSON], top=TOP_NAME,
                                                macros=frozenset(macros.macros))
        run, activity = self._gate_level(inputs[Artifact.HIERARCHICAL_NETLIST], inputs[Artifact.HIERARCHICAL_NETLIST_JSON],
                                         net, arch, test, macros, period, budget, folder,
                                         instances=tuple(path for path in hierarchical.instances if path),
                                         hierarchical=True)
        _check_gate_level(run, reference, cycles, folder)
        energy = energy_by_block(hierarchical, activity, _window_durations_ns(activity, run), liberty, top=TOP_NAME,
                                 macros=frozenset(macros.macros))
        return {block: float(pj[:-1].mean() / 1000) for block, pj in energy.dynamic_pj.items()}

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: PowerStepConfig = self.config
        net = CompiledNetwork.load(inputs[Artifact.NETWORK])
        test = EncodedTestSet.load(inputs[Artifact.TEST_SET]).head(cfg.images)
        arch = dataclasses.replace(cfg.architecture, trace=False)
        period = TimingMetrics.load(inputs[Artifact.TIMING]).clock_period_ns
        reference = ref_run(net, test.for_encoder(arch.encoder).spikes)
        cycles = predict_cycles(net, arch, reference)
        entries, _ = PortCodec(net, arch).input_stream(test.core_inputs(arch))  # what the host sends
        budget = gate_level_cycle_budget(cycles.cycles, len(entries))
        macros = MacroSet.load(inputs[Artifact.MACROS])
        liberty = read_liberty(cfg.library.require())
        # The hierarchical netlist's simulation (the split by block) runs beside the flat one's.
        with ThreadPoolExecutor(max_workers=1) as pool:
            by_block = pool.submit(self._energy_by_block, inputs, net, arch, test, reference, cycles, macros, liberty,
                                   period, budget, folder / "by_block")
            run, activity = self._gate_level(inputs[Artifact.NETLIST], inputs[Artifact.NETLIST_JSON], net, arch, test,
                                             macros, period, budget, folder)
            blocks = by_block.result()
        _check_gate_level(run, reference, cycles, folder)
        accesses = memory_accesses(net, arch, reference)
        if run.macro_accesses is not None:
            check_macro_accesses(run.macro_accesses, accesses, arch.words(net), folder)
        module = json.loads(Path(inputs[Artifact.NETLIST_JSON]).read_text())["modules"][TOP_NAME]
        sta = sta_report_power(inputs[Artifact.NETLIST], top=TOP_NAME, library=cfg.library, clock_period_ns=period,
                               input_activity=_input_port_activity(module, activity, period), out_dir=folder,
                               macro_liberty=macros.liberty)
        windows_ns = _window_durations_ns(activity, run)
        estimate = estimate_energy(build_net_model(module, liberty, macros=frozenset(macros.macros)), activity,
                                   windows_ns)
        macro_pj = macro_access_energy_pj(macros, accesses)
        macro_leakage_nj = macros.leakage_nw * windows_ns[:-1] * 1e-9  # nW x ns = 1e-18 J
        logic_nj = estimate.total_pj[:-1] / 1000.0
        access_nj = (macro_pj["weights"] + macro_pj["biases"] + macro_pj["membranes"]) / 1000.0
        per_image_nj = logic_nj + access_nj + macro_leakage_nj
        mean_nj = float(per_image_nj.mean())
        macro_mean_nj = mean_nj - float(logic_nj.mean())
        macro_terms = {"sram_macro_accesses": float(access_nj.mean()),
                       "sram_macro_leakage": float(macro_leakage_nj.mean())} if macros.macros else {}
        # OpenSTA's power covers the logic (the macros' cells have no power data): add their accesses.
        sta_nj = sta.total_w * float(cycles.cycles.mean()) * period + macro_mean_nj
        sops = cycles.synaptic_ops
        analytical = analytical_energy_nj(
            net, energies=operation_energies(liberty), flip_flops=_flip_flops(module),
            cycles=float(cycles.cycles.mean()), synaptic_ops=float(sops.mean()),
            neuron_updates=float(reference.timesteps_used.mean()) * sum(layer.n_out for layer in net.layers))
        # It counts the logic's operations; the macros' accesses and leakage come from the same model in both.
        analytical_terms = {**{k: v for k, v in analytical.items() if k != "total"}, **macro_terms}
        analytical_nj = sum(analytical_terms.values())
        np.savez(folder / "toggles.npz", rises=activity.rises, falls=activity.falls)
        sample = SampleMean.of(per_image_nj)
        metrics = PowerMetrics(
            method=f"{METHODS[cfg.simulator]}; per-net toggles x liberty switching (1/2 C V^2, pin capacitances) "
                   "and internal-energy tables; leakage x time",
            activity_source=f"{cfg.simulator}:gate-level",
            activity_coverage=estimate.activity_coverage,
            toggled_net_share=estimate.toggled_share,
            images=sample.count,
            clock_period_ns=period,
            input_transition_ns=INPUT_TRANSITION_NS,
            nj_per_inference=mean_nj,
            nj_per_inference_ci95=sample.ci95,
            nj_per_inference_each=tuple(per_image_nj.tolist()),
            logic_nj_per_inference=float(logic_nj.mean()),
            logic_nj_per_inference_ci95=SampleMean.of(logic_nj).ci95,
            sram_macro_nj_per_inference=macro_mean_nj,
            # The sample's images grouped by their true class (classes the sample lacks are absent).
            nj_per_inference_by_class={
                net.class_names[c] if net.class_names else str(c): float(per_image_nj[test.labels == c].mean())
                for c in sorted(set(test.labels.tolist()))},
            nj_per_inference_spread=float(per_image_nj.std()) / mean_nj,
            pj_per_sop=float(per_image_nj.sum() * 1000 / sops.sum()),
            logic_pj_per_sop=float(logic_nj.sum() * 1000 / sops.sum()),
            sops_per_inference_mean=float(sops.mean()),
            # By physical mechanism (the logic's nets and cells) ...
            breakdown_nj_per_inference={
                "switching": float(estimate.switching_pj[:-1].mean() / 1000),
                "internal": float(estimate.internal_pj[:-1].mean() / 1000),
                "leakage": float(estimate.leakage_pj[:-1].mean() / 1000),
                **macro_terms,
            },
            # ... and by what the energy does.
            breakdown=energy_by_category(
                macro_pj, float((estimate.switching_pj[:-1] + estimate.internal_pj[:-1]).mean() / 1000),
                float((estimate.leakage_pj[:-1] + macro_leakage_nj * 1000).mean() / 1000), blocks),
            breakdown_method="SRAM macro accesses (if any) to their memory; the logic's dynamic energy split by "
                             "the blocks' shares in a gate-level simulation of the hierarchical netlist "
                             "(area.by_block's synthesis) on the same inferences",
            logic_by_block_nj_per_inference_hierarchical=blocks,
            leakage_nw=estimate.leakage_nw,
            sram_macro_leakage_nw=macros.leakage_nw,
            analytical_nj_per_inference=analytical_nj,
            analytical_terms_nj=analytical_terms,
            analytical_over_gate_level=analytical_nj / mean_nj,
            opensta_cross_check=OpenStaCrossCheck(
                method="OpenSTA report_power with the measured mean input-port toggle rate on every input port, "
                       "activity propagated by OpenSTA (it reads no VCD); a labelled cross-check, not the estimate",
                input_activity_per_cycle=sta.input_activity,
                power_mw=sta.total_w * 1e3,
                nj_per_inference=sta_nj,
                over_gate_level=sta_nj / mean_nj,
            ),
            supply_v=liberty.voltage_v,
            feature_nm=cfg.library.feature_nm,
            memory_model=MODEL_DESCRIPTION if macros.macros else "flip-flops (no SRAM macros)",
        )
        path = folder / "energy.json"
        path.write_text(json.dumps(to_jsonable(metrics, with_type=False), indent=2))
        return StepOutcome({Artifact.ENERGY: path}, metrics)
