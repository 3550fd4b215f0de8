"""A RunReport as report.json, report.md and report.png, and as the one-screen summary. The Markdown
keeps measured, modelled and estimated figures in separate tables (flows/engine/figures.py)."""

from __future__ import annotations

import json
from pathlib import Path

from flows.engine.typed_json import to_jsonable
from model.atomic_file import write_atomically
from flows.report.schema import RunReport

# Published figures for context only: other processes, other networks; not comparable as measured.
LITERATURE = [
    ("ODIN (28 nm, 256 neurons)", "12.7 pJ/SOP"),
    ("ReckOn (28 nm)", "5.3 pJ/SOP"),
    ("Seed chip, MNIST (40 nm per its arXiv text)", "48.4-773 nJ/image"),
]
REPORT_FILES = ("report.json", "report.md", "report.png")


def _ci(interval: tuple[float, float] | None, images: int) -> str:
    if interval is None:
        return "1 image: no interval"
    return f"95% CI {interval[0]:.1f}-{interval[1]:.1f} over {images} images"


def _table(title: str, rows: list[tuple[str, str]], intro: str = "") -> list[str]:
    if not rows:
        return []
    lines = ["", f"## {title}", ""]
    if intro:
        lines += [intro, ""]
    return lines + ["| figure | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)]


def _measured_rows(r: RunReport) -> list[tuple[str, str]]:
    a, h = r.accuracy, r.hardware
    rows = [("Data set", f"{r.dataset} ({r.test_images} test images)"),
            ("Network", "-".join(map(str, r.network)) + f", T = {r.timesteps}")]
    shown = [(name, value) for name, value in (("float", a.float_model), ("quantized (torch)", a.quantized_torch),
                                               ("reference", a.quantized_reference)) if value is not None]
    if shown:
        rows.append(("Accuracy " + " / ".join(n for n, _ in shown), " / ".join(f"{v:.4f}" for _, v in shown)))
    if a.quantized_reference is not None:
        rows.append(("Reference accuracy, every timestep", f"{a.quantized_reference_full_timesteps:.4f} on "
                                                            f"{a.reference_images} images"))
    if r.early_exit is not None:
        e, c = r.early_exit, r.early_exit.calibration
        rows.append(("Early exit (SEENN-I, integer)",
                     f"after step >= {c.min_steps}, margin {c.margin} (confidence >= {c.confidence_equivalent:.3f}): "
                     f"{e.avg_timesteps:.2f} timesteps on average, accuracy {e.accuracy:.4f} (every timestep: "
                     f"{e.accuracy_full_timesteps:.4f}); calibrated on {c.validation_images} held-out images"))
    if r.verify is not None:
        v = r.verify
        rows += [("Accuracy RTL", f"{a.rtl:.4f} on the first {a.rtl_images} test images"
                                  + (" (with early exit)" if a.deployed_with_early_exit else "")),
                 ("Verification", f"{v.simulator}: {v.images} images, {v.mismatched_images} mismatched, "
                                  f"{v.cycle_mismatches} cycle mismatches")]
    if h is not None:
        bits = h.interface_bits_per_inference
        rows += [
            ("Lanes / weight bits / membrane bits", f"{h.lanes} / {h.weight_bits} / {list(h.membrane_bits)}"),
            ("Cycles per inference (mean, p99)", f"{h.cycles_per_inference_mean:.0f}, {h.cycles_per_inference_p99:.0f}"),
            ("Cycles / SOP floor (SOPs / lanes)", f"{h.cycles_over_sop_floor:.3f} (floor {h.cycles_sop_floor_mean:.0f})"),
            ("Cycles / no-stall floor of this architecture",
             f"{h.cycles_over_no_stall_floor:.3f} (floor {h.cycles_no_stall_floor_mean:.0f})"),
            ("Synaptic operations per inference", f"{h.sops_per_inference_mean:.0f}"),
            ("Input / host bits per inference", f"{h.input}; spike events {bits.events_mean:.0f} bits, on-chip "
                                                f"encoder {bits.on_chip_encoder} bits"),
        ]
    if r.area is not None:
        ar = r.area
        rows.append(("Logic area", f"{ar.logic_um2:,.0f} um^2 ({ar.library}), {ar.cell_count} cells, "
                                   f"{ar.flip_flops} flip-flops"))
        shares = ", ".join(f"{block.replace('_', ' ')} {share:.0%}" for block, share in ar.by_block_share.items()
                           if share > 0)
        rows.append(("Area by block (hierarchical synthesis)", shares))
    if r.timing is not None:
        t = r.timing
        rows += [("Critical path / Fmax", f"{t.critical_path_ns:.2f} ns / {t.fmax_mhz:.1f} MHz ({t.corner})"),
                 ("Clock used", f"{t.clock_mhz:.2f} MHz; latency {h.latency_us_mean:.1f} us per inference")]
    if r.energy is not None:
        e = r.energy
        logic_each = [x - e.sram_macro_nj_per_inference for x in e.nj_per_inference_each]
        rows += [
            ("Logic energy per inference (gate level)",
             f"{e.logic_nj_per_inference:.1f} nJ ({_ci(e.logic_nj_per_inference_ci95, e.images)}; min "
             f"{min(logic_each):.1f}, max {max(logic_each):.1f})"),
            ("Logic energy per synaptic operation", f"{e.logic_pj_per_sop:.1f} pJ/SOP"),
            ("Logic energy by mechanism (nJ)", ", ".join(f"{k} {v:.1f}" for k, v in e.breakdown_nj_per_inference.items()
                                                          if not k.startswith("sram_macro_"))),
            ("Activity", f"{e.activity_source}, coverage {e.activity_coverage:.1%}"),
        ]
    return rows


def _energy_totals(r: RunReport) -> list[tuple[str, str]]:
    e = r.energy
    return [("Energy per inference", f"{e.nj_per_inference:.1f} nJ ({_ci(e.nj_per_inference_ci95, e.images)})"),
            ("Energy per synaptic operation", f"{e.pj_per_sop:.1f} pJ/SOP"),
            ("Energy by what it does (nJ)", ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in e.breakdown.items())),
            ("Area", f"{r.area.total_um2:,.0f} um^2")]


def _modelled_rows(r: RunReport) -> list[tuple[str, str]]:
    rows = []
    if r.area is not None and r.area.sram_macros:
        rows += [("SRAM macro area", f"{r.area.sram_macros_um2:,.0f} um^2 ({len(r.area.sram_macros)} macros)"),
                 ("SRAM macro accesses per inference", f"{r.energy.sram_macro_nj_per_inference:.1f} nJ")
                 if r.energy is not None else ("SRAM macro accesses", "not simulated (no power step)")]
    if r.energy is not None:
        # Totals with a modelled part sit here even when it is zero (flip-flop memories).
        rows += [(f"{name} (measured logic + modelled macros)", value) for name, value in _energy_totals(r)]
        e = r.energy
        terms = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in e.analytical_terms_nj.items())
        o = e.opensta_cross_check
        rows += [("Analytical cross-check", f"{e.analytical_nj_per_inference:.1f} nJ ({terms}); "
                                            f"{e.analytical_over_gate_level:.2f}x the energy above"),
                 ("OpenSTA report_power (cross-check)", f"{o.nj_per_inference:.1f} nJ ({o.power_mw:.2f} mW, input "
                                                        f"activity {o.input_activity_per_cycle:.3f}/cycle); "
                                                        f"{o.over_gate_level:.2f}x")]
    return rows


def _notes(r: RunReport) -> list[str]:
    notes = []
    if r.imported is not None:
        i = r.imported
        decay = "no leak (IF)" if i.decay_per_step is None else f"decay {i.decay_per_step:.6g} per step"
        notes.append(f"- Imported from a NIR graph, stepped with dt = {i.dt_s:g} s (forward Euler): {decay}, "
                     f"reset {i.reset}, readout {i.readout}. Approximations: "
                     + ("; ".join(i.approximations) if i.approximations else "none in the import") +
                     " (the leak shift and the weights' rounding come after, in quantize).")
    if r.area is not None:
        notes.append(f"- Area: Yosys `stat -liberty`; memories: {r.area.memory_model}. Area by block: a second "
                     f"synthesis that keeps the hierarchy ({r.area.hierarchical_total_um2:,.0f} um^2 in all); shares "
                     f"are of that total.")
    if r.timing is not None:
        notes.append(f"- Timing: {r.timing.assumptions}.")
    if r.energy is not None:
        e = r.energy
        notes.append(f"- Energy: {e.method}; clock {1000 / e.clock_period_ns:.2f} MHz, input transition "
                     f"{e.input_transition_ns} ns for every table look-up; memories: {e.memory_model}. The mean is over "
                     f"{e.images} inferences, the first test images ({_ci(e.nj_per_inference_ci95, e.images)}).")
        notes.append("- Analytical cross-check: operations counted by the reference times per-operation energies "
                     "from the same liberty (flows/energy/analytical.py states the model and its omissions).")
        notes.append(f"- OpenSTA cross-check: {e.opensta_cross_check.method}.")
    if r.hardware is not None:
        notes.append("- Cycles: the reference's exact prediction (sim/cycles.py), equal to the RTL's on every verified "
                     "image. The SOP floor, SOPs / lanes, bounds every design with that many adders; the no-stall "
                     "floor is this architecture's alone.")
    return notes


def markdown(r: RunReport) -> str:
    title = "# spikefab verification report" if r.kind == "verify" else "# spikefab run report"
    lines = [title, "", f"Schema version {r.schema_version}; stopped after {r.stopped_after}."]
    lines += _table("Measured", _measured_rows(r), "Counted on the test set, simulated on the RTL, or synthesized "
                                                    "and simulated on the mapped netlist.")
    lines += _table("Modelled", _modelled_rows(r), "From stated models, not from our netlist: the SRAM macro model "
                                                    "(flows/energy/sram_macros.py) and the cross-checks.")
    if r.scaled_estimate is not None:
        s = r.scaled_estimate
        lines += ["", "## Estimated: scaled to newer nodes, not measured", "",
                  f"From {s.source_feature_nm} nm at {s.source_supply_v} V. {s.rule}", "",
                  "| node | supply V | dynamic nJ/inference | dynamic pJ/SOP | area mm^2 | Fmax MHz |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {node} | {f.supply_v} | {f.dynamic_nj_per_inference:.2f} | {f.dynamic_pj_per_sop:.2f} | "
                  f"{f.area_mm2:.4f} | {f.fmax_mhz:.0f} |" for node, f in s.nodes.items()]
    notes = _notes(r)
    if notes:
        lines += ["", "## How the figures were made", "", *notes]
    if r.energy is not None:
        lines += ["", "## Published figures, for context only (other processes and networks; not scaled)", ""]
        lines += [f"- {name}: {value}" for name, value in LITERATURE]
    if r.hardware is not None:
        lines += ["", "![run figures](report.png)"]
    return "\n".join(lines) + "\n"


def plot(r: RunReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    rates = r.hardware.spike_rate_per_layer
    axes[0].bar(["input"] + [f"layer {k}" for k in range(len(rates))], [r.hardware.input_spike_rate, *rates])
    axes[0].set_ylabel("spikes per neuron per step")
    axes[0].set_title("Activity (reference, measured)")
    if r.energy is not None:
        split = r.energy.breakdown
        axes[1].bar([k.replace("_", "\n") for k in split], list(split.values()))
        axes[1].set_ylabel("nJ per inference")
        axes[1].set_title(f"Energy ({r.area.library})")
    else:
        axes[1].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(run_dir: Path, r: RunReport) -> None:
    """report.json, report.md and, with hardware figures, report.png; a plot left by an earlier, longer
    run of the same folder is removed so that no file describes another run."""
    png = run_dir / "report.png"
    if r.hardware is not None:
        plot(r, png)
    else:
        png.unlink(missing_ok=True)
    write_atomically(run_dir / "report.md", markdown(r))
    write_atomically(run_dir / "report.json", json.dumps(to_jsonable(r, with_type=False), indent=2))


def summary(r: RunReport, run_dir: Path) -> str:
    a, h = r.accuracy, r.hardware
    shown = "  ".join(f"{name} {value:.4f}" for name, value in (
        ("float", a.float_model), ("quantized", a.quantized_reference), ("RTL", a.rtl)) if value is not None)
    lines = [f"spikefab {r.kind}: {r.dataset}, network {'-'.join(map(str, r.network))}, T={r.timesteps}"
             + ("" if r.hardware is not None or r.kind == "verify" else f", stopped after {r.stopped_after}"),
             f"  accuracy   {shown}"]
    if r.verify is not None:
        v = r.verify
        lines.append(f"  verify     {v.simulator}: {v.images} images, {v.mismatched_images} mismatched, "
                     f"{v.cycle_mismatches} cycle mismatches")
    if h is not None:
        clock = f" at {h.clock_mhz:.1f} MHz" if h.clock_mhz is not None else ""
        lines.append(f"  hardware   {h.lanes} lanes, {h.weight_bits}-bit weights, {h.cycles_per_inference_mean:.0f} "
                     f"cycles/inference ({h.cycles_over_sop_floor:.3f}x SOPs/lanes){clock}")
    if r.area is not None:
        lines.append(f"  area       {r.area.total_um2:,.0f} um^2 ({r.area.library})")
    if r.energy is not None:
        e = r.energy
        lines.append(f"  energy     {e.nj_per_inference:.1f} nJ/inference ({_ci(e.nj_per_inference_ci95, e.images)}), "
                     f"{e.pj_per_sop:.1f} pJ/SOP")
    lines.append(f"  report     {run_dir / 'report.md'}")
    return "\n".join(lines)
