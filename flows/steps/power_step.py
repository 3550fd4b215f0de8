"""The power step: energy per inference from real activity of the mapped netlist on real test
inferences, with the analytical and OpenSTA cross-checks beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.verilog import TOP_NAME
from model.architecture import RateEncoder
from model.compiled import CompiledNetwork
from sim.cycles import predict_cycles
from sim.reference import ref_run

from ..analytical_energy import analytical_energy_nj, operation_energies
from ..energy import INPUT_TRANSITION_NS, build_net_model, estimate_energy
from ..gate_level import simulate_netlist
from ..liberty_library import CellLibrary, read_liberty
from ..sta_power import sta_report_power
from ..step import Step, StepOutcome
from ..test_set import EncodedTestSet
from ..vcd_activity import count_toggles
from .hardware_steps import VerificationError, core_architecture


@dataclass(frozen=True, kw_only=True)
class PowerStepConfig:
    lanes: int
    encoder: RateEncoder | None
    library: CellLibrary
    images: int


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


class PowerStep(Step):
    """Energy per inference from real activity of the mapped netlist on real test inferences."""

    id = "power"
    inputs = ("netlist", "netlist_json", "network", "test_set", "timing")
    outputs = ("energy",)

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: PowerStepConfig = self.config
        net = CompiledNetwork.load(inputs["network"])
        test = EncodedTestSet.load(inputs["test_set"]).head(cfg.images)
        arch = core_architecture(cfg, trace=False)
        period = json.loads(Path(inputs["timing"]).read_text())["clock_period_ns"]
        reference = ref_run(net, test.spikes)
        cycles = predict_cycles(net, arch, reference)
        budget = int(cycles.cycles.sum() * 2 + 1000)
        run = simulate_netlist(inputs["netlist"], net, arch, test.core_inputs(arch), library=cfg.library,
                               clock_period_ns=period, max_cycles=budget, out_dir=folder)
        gate_predicted = np.array([r["predicted"] for r in run.results])
        gate_cycles = np.array([r["cycles"] for r in run.results])
        if not (np.array_equal(gate_predicted, reference.predicted) and np.array_equal(gate_cycles, cycles.cycles)):
            raise VerificationError("the gate-level netlist disagrees with the reference on "
                                    f"{int((gate_predicted != reference.predicted).sum())} classes or cycle counts; "
                                    f"see {folder}")
        activity = count_toggles(run.vcd, run.result_times_ns)
        module = json.loads(Path(inputs["netlist_json"]).read_text())["modules"][TOP_NAME]
        sta = sta_report_power(inputs["netlist"], top=TOP_NAME, library=cfg.library, clock_period_ns=period,
                               input_activity=_input_port_activity(module, activity, period), out_dir=folder)
        edges = np.concatenate([[activity.start_ns], run.result_times_ns])
        windows_ns = np.append(np.diff(edges), 0.0)
        liberty = read_liberty(cfg.library.require())
        estimate = estimate_energy(build_net_model(module, liberty), activity, windows_ns)
        run.vcd.unlink()  # hundreds of MB; the toggle counts are what matter, and they are kept
        per_image_nj = estimate.total_pj[:-1] / 1000.0
        mean_nj = float(per_image_nj.mean())
        sta_nj = sta.total_w * float(cycles.cycles.mean()) * period  # W x ns = nJ
        sops = cycles.synaptic_ops
        analytical = analytical_energy_nj(
            net, energies=operation_energies(liberty), flip_flops=_flip_flops(module),
            cycles=float(cycles.cycles.mean()), synaptic_ops=float(sops.mean()),
            neuron_updates=float(reference.timesteps_used.mean()) * sum(layer.n_out for layer in net.layers))
        np.savez(folder / "toggles.npz", rises=activity.rises, falls=activity.falls)
        metrics = {
            "method": "gate-level simulation (Icarus, zero delay) of the mapped netlist; per-net toggles x liberty "
                      "switching (1/2 C V^2, pin capacitances) and internal-energy tables; leakage x time",
            "activity_source": "vcd:gate-level",
            "activity_coverage": estimate.activity_coverage,
            "toggled_net_share": estimate.toggled_share,
            "images": int(test.spikes.shape[0]),
            "clock_period_ns": period,
            "input_transition_ns": INPUT_TRANSITION_NS,
            "nj_per_inference": mean_nj,
            "nj_per_inference_each": per_image_nj.tolist(),
            # The sample's images grouped by their true class (classes the sample lacks are absent).
            "nj_per_inference_by_class": {
                net.class_names[c] if net.class_names else str(c): float(per_image_nj[test.labels == c].mean())
                for c in sorted(set(test.labels.tolist()))},
            "nj_per_inference_spread": float(per_image_nj.std()) / mean_nj,
            "pj_per_sop": float(estimate.total_pj[:-1].sum() / sops.sum()),
            "sops_per_inference_mean": float(sops.mean()),
            "breakdown_nj_per_inference": {
                "switching": float(estimate.switching_pj[:-1].mean() / 1000),
                "internal": float(estimate.internal_pj[:-1].mean() / 1000),
                "leakage": float(estimate.leakage_pj[:-1].mean() / 1000),
            },
            "leakage_nw": estimate.leakage_nw,
            "analytical_nj_per_inference": analytical["total"],
            "analytical_terms_nj": {k: v for k, v in analytical.items() if k != "total"},
            "analytical_over_gate_level": analytical["total"] / mean_nj,
            "opensta_cross_check": {
                "method": "OpenSTA report_power with the measured mean input-port toggle rate on every input port, "
                          "activity propagated by OpenSTA (it reads no VCD); a labelled cross-check, not the estimate",
                "input_activity_per_cycle": sta.input_activity,
                "power_mw": sta.total_w * 1e3,
                "nj_per_inference": sta_nj,
                "over_gate_level": sta_nj / mean_nj,
            },
            "supply_v": liberty.voltage_v,
            "feature_nm": cfg.library.feature_nm,
            "memory_model": "flip-flops (no SRAM macros)",
        }
        path = folder / "energy.json"
        path.write_text(json.dumps(metrics, indent=2))
        return StepOutcome({"energy": path}, metrics)
