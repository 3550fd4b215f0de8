"""report.json, report.md and a plot for a run folder, and the one-screen summary."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from flows.engine.runner import StepRecord, run_flow
from flows.run_config import RunConfig
from flows.energy.technology_scaling import ProcessNode, scale_figures
from flows.engine.step import to_jsonable

# Published figures for context only: other processes, other networks; not comparable as measured.
LITERATURE = [
    ("ODIN (28 nm, 256 neurons)", "12.7 pJ/SOP"),
    ("ReckOn (28 nm)", "5.3 pJ/SOP"),
    ("Seed chip, MNIST (40 nm per its arXiv text)", "48.4-773 nJ/image"),
]


def run_and_report(config: RunConfig, run_dir: Path, *, until: str | None = None,
                   progress: Callable | None = None) -> tuple[dict[str, Any], list[StepRecord]]:
    """Run the flow into `run_dir` and write its report there; the report (with the wall time) and
    the step records."""
    start = time.perf_counter()
    records = run_flow(config.steps(until=until), run_dir, progress=progress)
    report = build_report(config, records)
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    write_report(run_dir, report)
    return report, records


def build_report(config: RunConfig, records: list[StepRecord]) -> dict[str, Any]:
    """The run's figures; sections of steps a shortened flow (--until) did not run are left out."""
    m = {r.id: r.metrics for r in records}
    if "reference" not in m:
        return _training_report(config, m)
    ref = m["reference"]
    report: dict[str, Any] = {
        "dataset": config.dataset,
        "network": list(config.sizes),
        "timesteps": config.timesteps,
        "test_images": m["encode"]["images"],
        "accuracy": {
            "float": m["train"]["accuracy_float"],
            "quantized_torch": m["quantize"]["accuracy_quantized_torch"],
            "quantized_reference": ref["accuracy_quantized_reference"],
            "reference_agrees_with_torch": ref["agreement_with_torch_quantized"],
        },
        "hardware": {
            "lanes": config.lanes,
            "weight_bits": config.weight_bits,
            "membrane_bits": m["quantize"]["membrane_bits"],
            "cycles_per_inference_mean": ref["cycles_per_inference_mean"],
            "cycles_per_inference_p99": ref["cycles_per_inference_p99"],
            "cycles_lower_bound_mean": ref["cycles_lower_bound_mean"],
            "cycles_over_bound": ref["cycles_over_bound"],
            "spike_rate_per_layer": ref["spike_rate_per_layer"],
            "input_spike_rate": ref["input_spike_rate"],
            "input": "on-chip rate encoder" if config.encoder_lanes else "spike events",
            "interface_bits_per_inference": ref["interface_bits_per_inference"],
        },
        "sops_per_inference_mean": ref["sops_per_inference_mean"],
    }
    if "accuracy_float_hardware_decays" in m["quantize"]:
        report["accuracy"]["float_hardware_decays"] = m["quantize"]["accuracy_float_hardware_decays"]
    if "teacher_accuracy" in m["train"]:
        report["accuracy"]["teacher_ann"] = m["train"]["teacher_accuracy"]
        report["distillation"] = m["train"]["distillation_loss"]
    if "calibrate-exit" in m:
        exit_ = m["calibrate-exit"]
        report["early_exit"] = {
            **{k: exit_[k] for k in ("min_steps", "margin", "confidence_equivalent", "tolerance", "validation_images",
                                     "validation_accuracy_full", "validation_accuracy_exit",
                                     "validation_timesteps_mean")},
            "avg_timesteps": ref["timesteps_used_mean"],
            "accuracy": ref["accuracy_quantized_reference"],
            "accuracy_full_timesteps": ref["accuracy_quantized_reference_full_timesteps"],
        }
    if "compile" in m:
        report["hardware"]["words_per_layer"] = m["compile"]["words_per_layer"]
    if "verify" in m:
        verify = m["verify"]
        report["accuracy"].update(rtl=verify["accuracy_rtl"], rtl_images=verify["images"])
        report["verify"] = {k: verify[k] for k in ("simulator", "images", "mismatched_images", "cycle_mismatches",
                                                   "first_mismatch")}
        report["verify"]["simulator_processes"] = verify.get("simulator_processes", 1)  # runs before it had one
    if "synth" in m:
        synth = m["synth"]
        report["area"] = {k: synth[k] for k in ("library", "total_um2", "cell_count", "flip_flops",
                                                "flip_flop_area_share", "cells", "memory_style")}
        report["area"].update({k: synth[k] for k in ("logic_um2", "sram_macros_um2", "memory_model") if k in synth})
        if "by_block_um2" in synth:  # from the hierarchical synthesis (flows/area_by_block.py)
            report["area"].update(by_block=synth["by_block_um2"], by_block_share=synth["by_block_share"],
                                  hierarchical_total_um2=synth["hierarchical_total_um2"])
    if "timing" in m:
        timing = m["timing"]
        report["timing"] = {k: timing[k] for k in ("critical_path_ns", "fmax_mhz", "clock_period_ns", "corner",
                                                   "assumptions")}
        report["hardware"]["clock_mhz"] = timing["clock_mhz"]
        report["hardware"]["latency_us_mean"] = ref["cycles_per_inference_mean"] * timing["clock_period_ns"] / 1000
    if "power" in m:
        energy = m["power"]
        report["energy"] = {k: energy[k] for k in (  # those a cached step of an older run has
            "method", "activity_source", "activity_coverage", "images", "nj_per_inference", "nj_per_inference_each",
            "nj_per_inference_by_class",
            "nj_per_inference_spread", "pj_per_sop", "breakdown_nj_per_inference", "breakdown", "breakdown_method",
            "logic_by_block_nj_per_inference_hierarchical", "memory_model",
            "input_transition_ns", "analytical_nj_per_inference", "analytical_terms_nj", "analytical_over_gate_level",
            "opensta_cross_check") if k in energy}
        report["energy"]["clock_mhz"] = 1000 / energy["clock_period_ns"]
        if "supply_v" in energy and "area" in report and "timing" in report:
            split = energy["breakdown_nj_per_inference"]
            report["scaled_estimate"] = {
                "rule": "first order from the measured figures: dynamic energy x (L_t/L_s)(V_t/V_s)^2, area x "
                        "(L_t/L_s)^2, Fmax x L_s/L_t; leakage not scaled (flows/technology_scaling.py). "
                        "An estimate for placing the design beside published chips, not a measurement.",
                "source": {"feature_nm": energy["feature_nm"], "supply_v": energy["supply_v"]},
                "nodes": scale_figures(
                    source=ProcessNode(feature_nm=energy["feature_nm"], supply_v=energy["supply_v"]),
                    dynamic_nj=split["switching"] + split["internal"] + split.get("sram_macro_accesses", 0.0),
                    area_um2=report["area"]["total_um2"],
                    fmax_mhz=report["timing"]["fmax_mhz"], sops_per_inference=energy["sops_per_inference_mean"]),
            }
    report["config"] = to_jsonable(config)
    report["steps"] = {r.id: {"seconds": round(r.seconds, 2), "cached": r.cached, "folder": r.folder.name}
                       for r in records}
    return report


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _training_report(config: RunConfig, m: dict[str, dict]) -> dict[str, Any]:
    """A flow stopped before the reference: what training and quantization measured."""
    report: dict[str, Any] = {"dataset": config.dataset, "network": list(config.sizes), "timesteps": config.timesteps,
                              "stopped_after": list(m)[-1], "accuracy": {}}
    if "encode" in m:
        report["test_images"] = m["encode"]["images"]
    if "train" in m:
        report["accuracy"]["float"] = m["train"]["accuracy_float"]
    if "quantize" in m:
        report["accuracy"]["quantized_torch"] = m["quantize"]["accuracy_quantized_torch"]
    return report


def markdown(report: dict[str, Any]) -> str:
    if "hardware" not in report:
        lines = ["# spikefab run report", "", f"Stopped after the {report['stopped_after']} step.", "",
                 "| figure | value |", "| --- | --- |"]
        lines += [f"| accuracy {k} | {v:.4f} |" for k, v in report["accuracy"].items()]
        return "\n".join(lines) + "\n"
    a, h = report["accuracy"], report["hardware"]
    rows = [
        ("Data set", f"{report['dataset']} ({report['test_images']} test images)"),
        ("Network", "-".join(map(str, report["network"])) + f", T = {report['timesteps']}"),
        ("Accuracy float / quantized (torch) / reference", f"{a['float']:.4f} / {a['quantized_torch']:.4f} / "
                                                          f"{a['quantized_reference']:.4f}"),
    ]
    if "early_exit" in report:
        e = report["early_exit"]
        rows.append(("Early exit (SEENN-I, integer)",
                     f"after step >= {e['min_steps']}, margin {e['margin']} (confidence >= {e['confidence_equivalent']:.3f}): "
                     f"{e['avg_timesteps']:.2f} timesteps on average, accuracy {e['accuracy']:.4f} "
                     f"(full T: {e['accuracy_full_timesteps']:.4f}); calibrated on {e['validation_images']} held-out images"))
    if "verify" in report:
        v = report["verify"]
        rows += [("Accuracy RTL", f"{a['rtl']:.4f} on {a['rtl_images']} images"),
                 ("Verification", f"{v['simulator']}: {v['images']} images, {v['mismatched_images']} mismatched, "
                                  f"{v['cycle_mismatches']} cycle mismatches")]
    rows += [
        ("Lanes / weight bits / membrane bits", f"{h['lanes']} / {h['weight_bits']} / {h['membrane_bits']}"),
        ("Cycles per inference (mean, p99)", f"{h['cycles_per_inference_mean']:.0f}, {h['cycles_per_inference_p99']:.0f}"),
        ("Cycles / event-driven lower bound", f"{h['cycles_over_bound']:.3f} (bound {h['cycles_lower_bound_mean']:.0f})"),
        ("Synaptic operations per inference", f"{report['sops_per_inference_mean']:.0f}"),
        ("Input / host bits per inference", f"{h['input']}; spike events {h['interface_bits_per_inference']['events_mean']:.0f} "
                                            f"bits, on-chip encoder {h['interface_bits_per_inference']['on_chip_encoder']} bits"),
    ]
    notes = []
    if "area" in report:
        ar = report["area"]
        rows.append(("Area", f"{ar['total_um2']:,.0f} um^2 ({ar['library']}), {ar['cell_count']} cells, "
                             f"{ar['flip_flops']} flip-flops ({ar['flip_flop_area_share']:.0%} of area)"))
        notes.append(f"- Area: Yosys `stat -liberty`; memory style: {ar['memory_style']}.")
        if "by_block" in ar:
            shares = ", ".join(f"{block.replace('_', ' ')} {share:.0%}" for block, share in ar["by_block_share"].items()
                               if share > 0)
            rows.append(("Area by block", shares))
            notes.append(f"- Area by block: a second synthesis that keeps the hierarchy, each memory a module of its "
                         f"own ({ar['hierarchical_total_um2']:,.0f} um^2 in all, against {ar['total_um2']:,.0f} "
                         f"flattened, where Yosys optimises across the boundaries); shares are of that total.")
    if "timing" in report:
        t = report["timing"]
        rows += [("Critical path / Fmax", f"{t['critical_path_ns']:.2f} ns / {t['fmax_mhz']:.1f} MHz ({t['corner']})"),
                 ("Clock used", f"{h['clock_mhz']:.2f} MHz; latency {h['latency_us_mean']:.1f} us per inference")]
        notes.append(f"- Timing: {t['assumptions']}.")
    if "energy" in report:
        e = report["energy"]
        rows += [
            ("Energy per inference", f"{e['nj_per_inference']:.1f} nJ (spread {e['nj_per_inference_spread']:.1%} "
                                     f"over {e['images']} images)"),
            ("Energy per synaptic operation", f"{e['pj_per_sop']:.1f} pJ/SOP"),
            ("Energy split (nJ)", ", ".join(f"{k} {val:.1f}" for k, val in e["breakdown_nj_per_inference"].items())),
            *([("Energy by what it does (nJ)", ", ".join(f"{k.replace('_', ' ')} {val:.1f}"
                                                          for k, val in e["breakdown"].items()))]
              if "breakdown" in e else []),
            ("Activity", f"{e['activity_source']}, coverage {e['activity_coverage']:.1%}"),
        ]
        if "analytical_nj_per_inference" in e:
            terms = ", ".join(f"{k.replace('_', ' ')} {val:.1f}" for k, val in e["analytical_terms_nj"].items())
            rows.append(("Analytical cross-check", f"{e['analytical_nj_per_inference']:.1f} nJ ({terms}); "
                                                   f"{e['analytical_over_gate_level']:.2f}x the gate-level figure"))
            notes.append("- Analytical cross-check: operations counted by the reference times per-operation energies "
                         "from the same liberty (flows/analytical_energy.py states the model and its omissions).")
        if "opensta_cross_check" in e:
            o = e["opensta_cross_check"]
            rows.append(("OpenSTA report_power (cross-check)", f"{o['nj_per_inference']:.1f} nJ ({o['power_mw']:.2f} mW, "
                                                                f"input activity {o['input_activity_per_cycle']:.3f}/cycle); "
                                                                f"{o['over_gate_level']:.2f}x the gate-level figure"))
            notes.append(f"- OpenSTA cross-check: {o['method']}.")
        notes.insert(0, f"- Energy: {e['method']}; clock {e['clock_mhz']:.2f} MHz, input transition "
                        f"{e['input_transition_ns']} ns for every table look-up; memories: {e['memory_model']}.")
    lines = ["# spikefab run report", "", "| figure | value |", "| --- | --- |"]
    lines += [f"| {k} | {val} |" for k, val in rows]
    if "scaled_estimate" in report:
        scaled = report["scaled_estimate"]
        lines += ["", "## Scaled to newer nodes: an ESTIMATE, not measured", "",
                  f"From {scaled['source']['feature_nm']} nm at {scaled['source']['supply_v']} V. {scaled['rule']}", "",
                  "| node | supply V | dynamic nJ/inference | dynamic pJ/SOP | area mm^2 | Fmax MHz |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {node} | {f['supply_v']} | {f['dynamic_nj_per_inference']:.2f} | {f['dynamic_pj_per_sop']:.2f} | "
                  f"{f['area_mm2']:.4f} | {f['fmax_mhz']:.0f} |" for node, f in scaled["nodes"].items()]
    lines += ["", "## How the figures were made", "", *notes,
              "", "## Published figures, for context only (other processes and networks; not scaled)", ""]
    lines += [f"- {name}: {figure}" for name, figure in LITERATURE]
    lines += ["", "![run figures](report.png)", ""]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    rates = report["hardware"]["spike_rate_per_layer"]
    names = ["input"] + [f"layer {k}" for k in range(len(rates))]
    axes[0].bar(names, [report["hardware"]["input_spike_rate"], *rates])
    axes[0].set_ylabel("spikes per neuron per step")
    axes[0].set_title("Activity (reference)")
    if "energy" in report:
        split = report["energy"]["breakdown_nj_per_inference"]
        axes[1].bar(list(split), list(split.values()))
        axes[1].set_ylabel("nJ per inference")
        axes[1].set_title(f"Energy ({report['area']['library']})")
    else:
        axes[1].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(run_dir: Path, report: dict[str, Any]) -> None:
    if "hardware" in report:
        plot(report, run_dir / "report.png")
    _atomic_write(run_dir / "report.md", markdown(report))
    _atomic_write(run_dir / "report.json", json.dumps(report, indent=2))


def summary(report: dict[str, Any], run_dir: Path) -> str:
    if "hardware" not in report:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in report["accuracy"].items())
        return (f"spikefab run: {report['dataset']}, stopped after {report['stopped_after']}"
                f"{': accuracy ' + shown if shown else ''}\n  report     {run_dir / 'report.md'}")
    a, h = report["accuracy"], report["hardware"]
    lines = [f"spikefab run: {report['dataset']}, network {'-'.join(map(str, report['network']))}, "
             f"T={report['timesteps']}",
             f"  accuracy   float {a['float']:.4f}  quantized {a['quantized_reference']:.4f}"
             + (f"  RTL {a['rtl']:.4f}" if "rtl" in a else "")]
    if "verify" in report:
        v = report["verify"]
        lines.append(f"  verify     {v['simulator']}: {v['images']} images, {v['mismatched_images']} mismatched, "
                     f"{v['cycle_mismatches']} cycle mismatches")
    clock = f" at {h['clock_mhz']:.1f} MHz" if "clock_mhz" in h else ""
    lines.append(f"  hardware   {h['lanes']} lanes, {h['weight_bits']}-bit weights, "
                 f"{h['cycles_per_inference_mean']:.0f} cycles/inference ({h['cycles_over_bound']:.3f}x the lower "
                 f"bound){clock}")
    if "area" in report:
        lines.append(f"  area       {report['area']['total_um2']:,.0f} um^2 ({report['area']['library']})")
    if "energy" in report:
        e = report["energy"]
        lines.append(f"  energy     {e['nj_per_inference']:.1f} nJ/inference, {e['pj_per_sop']:.1f} pJ/SOP "
                     f"({e['activity_source']})")
    lines.append(f"  report     {run_dir / 'report.md'}")
    return "\n".join(lines)
