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

from flows.engine.figures import Kind, kind_of, measured, modelled, setting, shown
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
    pareto: bool = setting("on the Pareto front of accuracy against energy, area and latency", default=False)

    @classmethod
    def of(cls, name: str, config: RunConfig, report: RunReport) -> "SweepPoint":
        return cls(point=name, timesteps=config.network.timesteps, weight_bits=config.quantization.weight_bits,
                   lanes=config.architecture.lanes,
                   accuracy=report.accuracy.quantized_reference, nj_per_inference=report.energy.nj_per_inference,
                   energy_images=report.energy.images, pj_per_sop=report.energy.pj_per_sop,
                   logic_nj_per_inference=report.energy.logic_nj_per_inference,
                   logic_mm2=report.area.logic_um2 / 1e6,
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


SECTIONS = {Kind.MEASURED: "Measured: accuracy of the hardware-exact reference on the test set; the logic's energy "
                           "from gate-level activity, mean over the stated images; latency at the clock used.",
            Kind.MODELLED: "Modelled: the logic's measured figures plus the SRAM macros' modelled accesses and area "
                           "(equal to the logic's where the memories are flip-flops)."}


def markdown(rows: list[SweepPoint]) -> str:
    """One table per kind of figure (never mixed), each row naming its point; * marks the Pareto front
    (accuracy against energy, area and latency, the totals)."""
    lines = ["# spikefab sweep"]
    for kind, intro in SECTIONS.items():
        names = [f.name for f in dataclasses.fields(SweepPoint) if kind_of(f) is kind]
        lines += ["", f"## {kind.value.capitalize()}", "", intro, "",
                  "| point | " + " | ".join(names) + " | Pareto |", "|---" * (len(names) + 2) + "|"]
        lines += [f"| {r.point} | " + " | ".join(shown(getattr(r, n)) for n in names) + f" | {'*' if r.pareto else ''} |"
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
