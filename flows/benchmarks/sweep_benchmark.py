"""A design-space sweep as a benchmark: `spikefab sweep`'s machinery (flows/sweep.py) on a local Dask
cluster over stated design points, its point count and each point's figures published under their
kinds, its table and plot copied beside the results (bench/sweep.md, bench/sweep.png)."""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from flows.design_point import DesignPoint
from flows.engine.figures import Kind, kind_of
from flows.run_config import EarlyExitSettings, RunConfig
from flows.sweep import SweepPoint, run_sweep
from flows.sweep_tasks import LOCAL

PUBLISHED_FIELDS = ("accuracy", "nj_per_inference", "pj_per_sop", "nj_per_inference_28nm", "pj_per_sop_28nm",
                    "area_mm2", "latency_us", "energy_images", "pareto")


def point_config(base: RunConfig, point: DesignPoint) -> RunConfig:
    """`base` with the point's timesteps, weight width, architecture and early exit."""
    return dataclasses.replace(
        base, network=dataclasses.replace(base.network, timesteps=point.timesteps),
        quantization=dataclasses.replace(base.quantization, weight_bits=point.weight_bits),
        architecture=dataclasses.replace(base.architecture, lanes=point.lanes, memories=point.memories,
                                         weight_bank_words=point.weight_bank_words, spike_batch=point.spike_batch),
        early_exit=None if point.exit_tolerance is None else EarlyExitSettings(tolerance=point.exit_tolerance))


@dataclass(frozen=True, kw_only=True)
class SweepBenchmark:
    base: RunConfig
    points: tuple[DesignPoint, ...]
    workers: int = 2

    def run(self, name: str, work: Path, *, resume: bool = False) -> tuple[dict, dict]:
        out = work / f"run-{name}"
        if not resume:
            shutil.rmtree(out, ignore_errors=True)  # wall times must be measured, not cached
        start = time.perf_counter()
        result = run_sweep({point: point_config(self.base, point) for point in self.points}, out,
                           scheduler=LOCAL, workers=self.workers)
        seconds = time.perf_counter() - start
        for table in ("sweep.md", "sweep.png"):
            if (out / table).is_file():
                shutil.copyfile(out / table, work / table)
        kinds_by_field = {f.name: kind_of(f) or Kind.SETTING for f in dataclasses.fields(SweepPoint)}
        results = {f"{name}.points": len(self.points), f"{name}.failed_points": len(result.failed),
                   f"{name}.pareto_points": sum(row.pareto for row in result.rows),
                   f"{name}.workers": self.workers, f"{name}.seconds.total": round(seconds, 1)}
        kinds = {key: Kind.MEASURED.value for key in results}
        kinds[f"{name}.workers"] = Kind.SETTING.value
        for row in result.rows:
            for field in PUBLISHED_FIELDS:
                key = f"{name}.{row.point}.{field}"
                results[key] = getattr(row, field)
                kinds[key] = kinds_by_field[field].value
        return results, kinds
