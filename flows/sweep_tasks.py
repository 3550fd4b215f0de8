"""Where a sweep's work runs: the tasks (a shared prefix of the flow, a whole design point) and the two
ways of running them, in this process one after another, or as tasks on Dask distributed (a local
cluster, or an existing one by its scheduler's address).

The work is a graph: per timesteps value the training; per (timesteps, weight width) the
quantization, starting from a copy of that training's folder; per point the whole flow, starting
from a copy of its quantization's folder. The flow's step cache (keyed on config, inputs, code and
tools) reuses what a copied folder holds and redoes what differs, so a copy is safe whatever it
holds, and a sweep run again resumes: finished steps are reused, and a folder that exists takes
from its shared work only the steps it lacks or holds under another key. A task that fails
returns its error instead of raising, so its dependents report it and the other points go on.

Each task runs torch with the same number of threads (`threads`) wherever it runs: results must not
depend on the machine or worker a point lands on (a different thread count may change the order of
floating-point sums in training).
"""

from __future__ import annotations

import json
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from flows.design_point import DesignPoint
from flows.run_config import RunConfig

SERIAL = "serial"
LOCAL = "local"


@dataclass(frozen=True)
class SharedWork:
    """A prefix of the flow that several points share: run `config` until `until` in `folder`,
    starting from a copy of the training group `after`'s folder (if any)."""

    config: RunConfig
    folder: Path
    until: str
    after: str | None = None


@dataclass(frozen=True)
class PointOutcome:
    point: DesignPoint
    report: object | None  # the RunReport, or None when the point failed
    error: str | None


def _with_threads(threads: int, work: Callable):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return work()
    finally:
        torch.set_num_threads(before)


def _step_key(step: Path) -> str | None:
    record = step / "step.json"
    return json.loads(record.read_text()).get("key") if record.is_file() else None


def _copy_atomically(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".copying")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # an interrupted copy never passes for a folder


def _take_shared(source: Path | None, folder: Path) -> None:
    """Give `folder` the steps its shared work holds: a new folder is a copy of `source`; an existing
    one (a sweep run again) gets every finished step of `source` it lacks or holds under another key
    (made by other code), so it never redoes shared work itself; its later steps then see new inputs,
    and the step cache redoes them."""
    if source is None:
        return
    if not folder.exists():
        _copy_atomically(source, folder)
        return
    for step in sorted(source.iterdir()):
        key = _step_key(step)
        if step.is_dir() and key is not None and _step_key(folder / step.name) != key:
            _copy_atomically(step, folder / step.name)


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_shared(work: SharedWork, source: Path | None, upstream: str | None, threads: int,
               progress: Callable | None) -> str | None:
    """The shared prefix; its error (or the upstream's), None on success."""
    if upstream is not None:
        return upstream
    from flows.report.build import run_and_report

    try:
        _take_shared(source, work.folder)
        _with_threads(threads, lambda: run_and_report(work.config, work.folder, until=work.until, progress=progress))
    except Exception as exc:  # reported with the points that depend on it
        return f"{work.folder.name} ({work.until}): {_error(exc)}"
    return None


def run_point(point: DesignPoint, config: RunConfig, folder: Path, source: Path, upstream: str | None, threads: int,
              progress: Callable | None) -> PointOutcome:
    if upstream is not None:
        return PointOutcome(point, None, f"its shared work failed: {upstream}")
    from flows.report.build import run_and_report

    try:
        _take_shared(source, folder)
        report, _ = _with_threads(threads, lambda: run_and_report(config, folder, progress=progress))
    except Exception as exc:  # one failed point must not stop the sweep
        return PointOutcome(point, None, _error(exc))
    return PointOutcome(point, report, None)


@dataclass(frozen=True)
class SweepPlan:
    """The graph: shared training per group, shared quantization per group, and the points."""

    training: dict[str, SharedWork]
    quantization: dict[str, SharedWork]
    points: dict[DesignPoint, tuple[RunConfig, Path]]


def plan(configs: dict[DesignPoint, RunConfig], out: Path) -> SweepPlan:
    shared = out / "shared"
    training, quantization, points = {}, {}, {}
    for point, config in configs.items():
        training.setdefault(point.training_group, SharedWork(config, shared / point.training_group, "train"))
        quantization.setdefault(point.quantization_group, SharedWork(
            config, shared / point.quantization_group, "quantize", after=point.training_group))
        points[point] = (config, out / point.name)
    return SweepPlan(training, quantization, points)


def _walk(sweep: SweepPlan, call: Callable, *, threads: int, progress: Callable | None) -> list:
    """The graph in dependency order through `call(task, *args)`: a direct call gives each task's
    result, a Dask client's submit a future (which Dask resolves where a later task takes it)."""
    trained = {group: call(run_shared, work, None, None, threads, progress) for group, work in sweep.training.items()}
    quantized = {group: call(run_shared, work, sweep.training[work.after].folder, trained[work.after], threads, progress)
                 for group, work in sweep.quantization.items()}
    return [call(run_point, point, config, folder, sweep.quantization[point.quantization_group].folder,
                 quantized[point.quantization_group], threads, progress)
            for point, (config, folder) in sweep.points.items()]


def run_serially(sweep: SweepPlan, *, threads: int, progress: Callable | None) -> list[PointOutcome]:
    return _walk(sweep, lambda task, *args: task(*args), threads=threads, progress=progress)


def run_on_dask(sweep: SweepPlan, *, scheduler: str, workers: int, threads: int,
                progress: Callable | None) -> list[PointOutcome]:
    """The graph as Dask tasks: on a local cluster of `workers` processes (scheduler "local"), or on the
    cluster whose scheduler is at `scheduler` (its workers must import spikefab and see `out`)."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == LOCAL:
        # One task per worker process at a time, with no memory limit (training's peak is the
        # point's, not the nanny's business); the dashboard on any free port (two sweeps may run).
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=":0")
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            futures = _walk(sweep, lambda task, *args: client.submit(task, *args, pure=False), threads=threads,
                            progress=progress)
            return client.gather(futures)
    finally:
        if cluster is not None:
            cluster.close()
