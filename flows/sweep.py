"""`spikefab sweep`: the design space of one network over timesteps, weight bits, lanes, memory style,
weight-memory banking and early-exit tolerance.

Every point is a full run in a folder of its own; the work the points share (training per timesteps,
quantization per timesteps and weight width) is done once and copied (flows/sweep_tasks.py), and the
points run as tasks, in this process or on Dask distributed. The table gives each point's accuracy
(the hardware-exact reference on the test set, early exit included), energy per inference, area,
latency and Fmax, and marks the Pareto front: the points no other point matches or beats on all four
of accuracy (higher), energy, area and latency (lower) while beating it on one. Points that failed
are listed with their errors; the others are unaffected.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from flows.design_point import DesignPoint
from flows.engine.figures import Kind, estimated, kind_of, measured, modelled, setting, shown
from flows.engine.typed_json import to_jsonable
from flows.report.published_chips import MNIST_CHIPS
from flows.report.schema import RunReport
from flows.run_config import RunConfig
from flows.sweep_tasks import SERIAL, PointOutcome, plan, run_on_dask, run_serially

COSTS = ("nj_per_inference", "area_mm2", "latency_us")


@dataclass(frozen=True, kw_only=True)
class SweepPoint:
    """One row of the sweep's table, from the point's RunReport."""

    point: str = setting("the point's name (flows/design_point.py)")
    timesteps: int = setting("timesteps")
    weight_bits: int = setting("bits per weight")
    lanes: int = setting("lanes")
    memories: str = setting("memory style")
    weight_bank_words: int | None = setting("words per weight macro bank (null: unbanked)")
    spike_batch: int = setting("input spikes per pass over a dense layer's membrane words")
    exit_tolerance: float | None = setting("early exit's calibration tolerance (null: no early exit)")
    accuracy: float = measured("fraction", "the hardware-exact reference on the test set, as deployed")
    energy_images: int = measured("", "gate-level inferences behind the energies")
    logic_nj_per_inference: float = measured("nJ", "the logic's gate-level energy per inference")
    logic_mm2: float = measured("mm^2", "the logic's area (report.area.logic_um2)")
    # With SRAM macros these add the macros' modelled accesses and area: modelled figures.
    nj_per_inference: float = modelled("nJ", "energy per inference, logic plus macros (report.energy.nj_per_inference)")
    pj_per_sop: float = modelled("pJ/SOP", "energy per synaptic operation, logic plus macros")
    area_mm2: float = modelled("mm^2", "area, logic plus macros (report.area.total_um2)")
    latency_us: float = measured("us", "mean cycles at the clock")
    fmax_mhz: float = measured("MHz", "Fmax")
    cycles_per_inference: float = measured("cycles", "mean cycles per inference")
    nj_per_inference_28nm: float = estimated("nJ", "the dynamic energy scaled to 28 nm (report.scaled_estimate)")
    pj_per_sop_28nm: float = estimated("pJ/SOP", "the same per synaptic operation")
    pareto: bool = setting("on the Pareto front of accuracy against energy, area and latency", default=False)

    @classmethod
    def of(cls, point: DesignPoint, report: RunReport) -> "SweepPoint":
        node = report.scaled_estimate.nodes["28nm"]
        return cls(point=point.name, timesteps=point.timesteps, weight_bits=point.weight_bits, lanes=point.lanes,
                   memories=point.memories.value, weight_bank_words=point.weight_bank_words,
                   spike_batch=point.spike_batch, exit_tolerance=point.exit_tolerance,
                   accuracy=report.accuracy.quantized_reference, nj_per_inference=report.energy.nj_per_inference,
                   energy_images=report.energy.images, pj_per_sop=report.energy.pj_per_sop,
                   logic_nj_per_inference=report.energy.logic_nj_per_inference,
                   logic_mm2=report.area.logic_um2 / 1e6,
                   area_mm2=report.area.total_um2 / 1e6, latency_us=report.hardware.latency_us_mean,
                   fmax_mhz=report.timing.fmax_mhz, cycles_per_inference=report.hardware.cycles_per_inference_mean,
                   nj_per_inference_28nm=node.dynamic_nj_per_inference, pj_per_sop_28nm=node.dynamic_pj_per_sop)


def pareto_flags(rows: list[SweepPoint], costs: tuple[str, ...] = COSTS) -> list[bool]:
    """Which rows no other row beats: at least as accurate and no costlier in every one of `costs`,
    and better in one."""
    def dominates(a: SweepPoint, b: SweepPoint) -> bool:
        no_worse = a.accuracy >= b.accuracy and all(getattr(a, c) <= getattr(b, c) for c in costs)
        better = a.accuracy > b.accuracy or any(getattr(a, c) < getattr(b, c) for c in costs)
        return no_worse and better

    return [not any(dominates(other, row) for other in rows if other is not row) for row in rows]


@dataclass(frozen=True)
class SweepResult:
    rows: list[SweepPoint]
    failed: dict[str, str]  # point name -> error


def run_sweep(configs: dict[DesignPoint, RunConfig], out: Path, *, scheduler: str = SERIAL, workers: int = 2,
              threads: int = 1, progress: Callable | None = None) -> SweepResult:
    """Every point's flow (scheduler: "serial" in this process, "local" on a local Dask cluster of
    `workers` processes, or a Dask scheduler's address), then the table, the JSON and the plots."""
    out.mkdir(parents=True, exist_ok=True)
    sweep = plan(configs, out)
    if scheduler == SERIAL:
        outcomes = run_serially(sweep, threads=threads, progress=progress)
    else:
        outcomes = run_on_dask(sweep, scheduler=scheduler, workers=workers, threads=threads, progress=progress)
    # Published MNIST chips are context for MNIST points only.
    return write_sweep(outcomes, out, chips=all(c.data.dataset == "mnist" for c in configs.values()))


def write_sweep(outcomes: list[PointOutcome], out: Path, *, chips: bool) -> SweepResult:
    rows = [SweepPoint.of(o.point, o.report) for o in outcomes if o.error is None]
    rows = [dataclasses.replace(row, pareto=on_front) for row, on_front in zip(rows, pareto_flags(rows))]
    failed = {o.point.name: o.error for o in outcomes if o.error is not None}
    (out / "sweep.json").write_text(json.dumps({"points": to_jsonable(rows, with_type=False), "failed": failed},
                                               indent=2))
    (out / "sweep.md").write_text(markdown(rows, failed))
    if rows:
        plot(rows, out / "sweep.png", chips=chips)
    return SweepResult(rows, failed)


SECTIONS = {Kind.MEASURED: "Measured: accuracy of the hardware-exact reference on the test set; the logic's energy "
                           "from gate-level activity, mean over the stated images; latency at the clock used.",
            Kind.MODELLED: "Modelled: the logic's measured figures plus the SRAM macros' modelled accesses, leakage "
                           "and area (equal to the logic's where the memories are flip-flops).",
            Kind.ESTIMATED: "Estimated: the dynamic energy (logic and macro accesses) scaled to 28 nm by the "
                            "first-order rule of flows/energy/technology_scaling.py; a placement, not a measurement."}


def markdown(rows: list[SweepPoint], failed: dict[str, str]) -> str:
    """One table per kind of figure (never mixed), each row naming its point; * marks the Pareto front
    (accuracy against energy, area and latency, the totals); then the points that failed."""
    lines = ["# spikefab sweep"]
    for kind, intro in SECTIONS.items():
        names = [f.name for f in dataclasses.fields(SweepPoint) if kind_of(f) is kind]
        lines += ["", f"## {kind.value.capitalize()}", "", intro, "",
                  "| point | " + " | ".join(names) + " | Pareto |", "|---" * (len(names) + 2) + "|"]
        lines += [f"| {r.point} | " + " | ".join(shown(getattr(r, n)) for n in names) + f" | {'*' if r.pareto else ''} |"
                  for r in rows]
    if failed:
        lines += ["", "## Failed points", "", "| point | error |", "| --- | --- |"]
        lines += [f"| {name} | {error.splitlines()[-1] if error else ''} |" for name, error in failed.items()]
    return "\n".join(lines) + "\n"


def short_labels(names: list[str]) -> tuple[list[str], str]:
    """The points' names without the parts all of them share (the plot's labels), and those parts."""
    parts = [name.split("-") for name in names]
    common = [part for part in parts[0] if all(part in other for other in parts)]
    labels = ["-".join(part for part in own if part not in common) or name for own, name in zip(parts, names)]
    return labels, "-".join(common)


def plot(rows: list[SweepPoint], path: Path, *, chips: bool) -> None:
    """Accuracy against each cost, red stars marking each panel's own front (accuracy against that
    cost alone), and a fourth panel with the points' 28 nm estimates, beside published MNIST chips'
    measured silicon when `chips` (context, not a ranking)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4), sharey=True)
    panels = [*zip(COSTS, ("nJ per inference (modelled, 180 nm)", "area (mm^2)", "latency (us)")),
              ("nj_per_inference_28nm", "nJ per inference at 28 nm (ours estimated)")]
    labels, common = short_labels([row.point for row in rows])
    for axis, (cost, label) in zip(axes, panels):
        for row, front in zip(rows, pareto_flags(rows, costs=(cost,))):
            axis.scatter(getattr(row, cost), row.accuracy, marker="*" if front else "o",
                         s=120 if front else 40, color="tab:red" if front else "tab:blue")
        # Points of one network share an accuracy, so their labels would overprint: one label per spot
        # (the names of coincident points stacked), above and below the row in turn.
        spots: dict[tuple[float, float], list[str]] = {}
        for row, name in sorted(zip(rows, labels), key=lambda pair: getattr(pair[0], cost)):
            spots.setdefault((float(f"{getattr(row, cost):.3g}"), row.accuracy), []).append(name)
        for k, ((x, accuracy), names) in enumerate(sorted(spots.items(), key=lambda item: (item[0][1], item[0][0]))):
            axis.annotate("\n".join(names), (x, accuracy), fontsize=6, textcoords="offset points",
                          xytext=(0, 6 if k % 2 == 0 else -8), ha="center", va="bottom" if k % 2 == 0 else "top")
        axis.set_xlabel(label)
        axis.margins(x=0.12, y=0.25)
    for chip in MNIST_CHIPS if chips else ():
        label = f"{chip.name} ({chip.node + ', ' if chip.node else ''}measured silicon)"
        axes[-1].plot([chip.nj_low, chip.nj_high], [chip.accuracy] * 2, "k-", lw=1)
        axes[-1].scatter([chip.nj_low, chip.nj_high], [chip.accuracy] * 2, marker="s", color="k", s=20)
        axes[-1].annotate(label, (chip.nj_low, chip.accuracy), fontsize=6, xytext=(3, -9), textcoords="offset points")
    axes[-1].set_xscale("log")
    axes[-1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # the minor ticks' labels overprint
    axes[0].set_ylabel("accuracy (hardware-exact reference)")
    fig.suptitle(f"Design space, every point {common} (red stars: each panel's Pareto front"
                 + ("; black squares: published MNIST chips, for context)" if chips else ")"), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
