"""`spikefab sweep`: the design space of one network over lanes, weight bits and timesteps.

Every point is a full run in a folder of its own. A point starts from a copy of the previous point
with the same timesteps, so the steps they share (training; quantization when only the lanes
change) are reused, not redone. The table gives each point's accuracy (the hardware-exact
reference on the whole test set), energy per inference, area, latency and Fmax, and marks the
Pareto front: the points no other point matches or beats on all four of accuracy (higher), energy,
area and latency (lower) while beating it on one.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from flows.engine.figures import measured, setting
from flows.engine.typed_json import to_jsonable
from flows.report.build import run_and_report
from flows.report.schema import RunReport
from flows.run_config import RunConfig

COSTS = ("nj_per_inference", "area_mm2", "latency_us")


@dataclass(frozen=True, kw_only=True)
class SweepPoint:
    """One row of the sweep's table, from the point's RunReport."""

    point: str = setting("T<timesteps>-W<weight bits>-L<lanes>")
    timesteps: int = setting("timesteps")
    weight_bits: int = setting("bits per weight")
    lanes: int = setting("lanes")
    accuracy: float = measured("fraction", "the hardware-exact reference on the test set, as deployed")
    nj_per_inference: float = measured("nJ", "energy per inference (report.energy.nj_per_inference)")
    energy_images: int = measured("", "gate-level inferences behind it")
    pj_per_sop: float = measured("pJ/SOP", "energy per synaptic operation")
    area_mm2: float = measured("mm^2", "area (report.area.total_um2)")
    latency_us: float = measured("us", "mean cycles at the clock")
    fmax_mhz: float = measured("MHz", "Fmax")
    cycles_per_inference: float = measured("cycles", "mean cycles per inference")
    pareto: bool = setting("on the Pareto front of accuracy against energy, area and latency", default=False)

    @classmethod
    def of(cls, name: str, config: RunConfig, report: RunReport) -> "SweepPoint":
        return cls(point=name, timesteps=config.timesteps, weight_bits=config.weight_bits,
                   lanes=config.architecture.lanes,
                   accuracy=report.accuracy.quantized_reference, nj_per_inference=report.energy.nj_per_inference,
                   energy_images=report.energy.images, pj_per_sop=report.energy.pj_per_sop,
                   area_mm2=report.area.total_um2 / 1e6, latency_us=report.hardware.latency_us_mean,
                   fmax_mhz=report.timing.fmax_mhz, cycles_per_inference=report.hardware.cycles_per_inference_mean)


def point_name(timesteps: int, weight_bits: int, lanes: int) -> str:
    return f"T{timesteps}-W{weight_bits}-L{lanes}"


def pareto_flags(rows: list[SweepPoint]) -> list[bool]:
    def dominates(a: SweepPoint, b: SweepPoint) -> bool:
        no_worse = a.accuracy >= b.accuracy and all(getattr(a, c) <= getattr(b, c) for c in COSTS)
        better = a.accuracy > b.accuracy or any(getattr(a, c) < getattr(b, c) for c in COSTS)
        return no_worse and better

    return [not any(dominates(other, row) for other in rows if other is not row) for row in rows]


def run_sweep(configs: dict[tuple[int, int, int], RunConfig], out: Path, *,
              progress: Callable | None = None) -> list[SweepPoint]:
    out.mkdir(parents=True, exist_ok=True)
    rows, last_folder_with_timesteps = [], {}
    for (timesteps, weight_bits, lanes), config in configs.items():
        folder = out / point_name(timesteps, weight_bits, lanes)
        previous = last_folder_with_timesteps.get(timesteps)
        if previous is not None and not folder.exists():
            shutil.copytree(previous, folder)  # its shared steps are then reused
        report, _ = run_and_report(config, folder, progress=progress)
        last_folder_with_timesteps[timesteps] = folder
        rows.append(SweepPoint.of(folder.name, config, report))
    rows = [dataclasses.replace(row, pareto=on_front) for row, on_front in zip(rows, pareto_flags(rows))]
    (out / "sweep.json").write_text(json.dumps(to_jsonable(rows, with_type=False), indent=2))
    (out / "sweep.md").write_text(markdown(rows))
    plot(rows, out / "sweep.png")
    return rows


def markdown(rows: list[SweepPoint]) -> str:
    lines = ["# spikefab sweep", "", "Measured. Accuracy: the hardware-exact reference on the test set; energy from "
             "gate-level activity (with SRAM macros, their accesses modelled), mean over the stated images; * marks "
             "the Pareto front (accuracy against energy, area and latency).", "",
             "| point | accuracy | nJ/inference (images) | pJ/SOP | area mm^2 | latency us | Fmax MHz | Pareto |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.point} | {r.accuracy:.4f} | {r.nj_per_inference:.1f} ({r.energy_images}) | {r.pj_per_sop:.1f} | "
              f"{r.area_mm2:.3f} | {r.latency_us:.1f} | {r.fmax_mhz:.1f} | {'*' if r.pareto else ''} |"
              for r in rows]
    return "\n".join(lines) + "\n"


def plot(rows: list[SweepPoint], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for axis, cost, label in zip(axes, COSTS, ("nJ per inference", "area (mm^2)", "latency (us)")):
        for row in rows:
            axis.scatter(getattr(row, cost), row.accuracy, marker="*" if row.pareto else "o",
                         s=120 if row.pareto else 40, color="tab:red" if row.pareto else "tab:blue")
            axis.annotate(row.point, (getattr(row, cost), row.accuracy), fontsize=7, xytext=(3, 3),
                          textcoords="offset points")
        axis.set_xlabel(label)
    axes[0].set_ylabel("accuracy (reference)")
    fig.suptitle("Design space (red stars: Pareto front)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
