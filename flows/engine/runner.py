"""Runs a list of steps into a run folder, one sub-folder per step. A step whose config, input files,
code, tools and libraries are unchanged (flows/provenance.py), and whose recorded outputs are still
intact, is not redone; a step is written to `<folder>.partial`, flushed to disk and renamed when it
succeeds, so an interrupted or failed run leaves no half-written step and resumes where it stopped.
A failed step's logs are kept in `<folder>.failed` for inspection."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from flows.engine.run_lock import RunFolderLock
from flows.engine.provenance import code_digest, file_digest, library_versions, tool_identity
from flows.engine.step import Artifact, Step
from flows.engine.typed_json import from_jsonable, to_jsonable
from sim.tools import stop_descendant_processes

M = TypeVar("M")

STEP_RECORD = "step.json"


@dataclass(frozen=True)
class StepRecord:
    step: Step
    folder: Path
    metrics: Any  # an instance of step.Metrics
    seconds: float
    cached: bool

    @property
    def id(self) -> str:
        return self.step.id


class RunRecords(tuple):
    """A run's step records, found by the class of their metrics, never by a step's name or folder;
    `artifacts` holds the files the run ended with, by kind."""

    artifacts: dict[Artifact, Path]

    def __new__(cls, records, artifacts: dict[Artifact, Path] | None = None):
        made = super().__new__(cls, records)
        made.artifacts = dict(artifacts or {})
        return made

    def metrics(self, kind: type[M]) -> M | None:
        found = [r.metrics for r in self if isinstance(r.metrics, kind)]
        return found[-1] if found else None

    def record(self, kind: type) -> StepRecord | None:
        found = [r for r in self if isinstance(r.metrics, kind)]
        return found[-1] if found else None


def step_provenance(step: Step, inputs: dict[str, Path]) -> dict[str, Any]:
    """Everything a step's outputs depend on: its config, its input files, the project code it runs,
    the tools it calls (and the data files they read) and the library versions."""
    return {
        "config": step.describe_config(),
        "inputs": {name: file_digest(path) for name, path in sorted(inputs.items())},
        "code": code_digest(type(step).__module__),
        "tools": {name: tool_identity(name) for name in step.tools},
        "tool_files": {name: file_digest(path) for name, path in sorted(step.tool_files().items())},
        "libraries": library_versions(),
    }


def step_key(provenance: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(provenance, sort_keys=True).encode()).hexdigest()


def _load_cached(folder: Path, key: str, step: Step) -> dict | None:
    """The step's record if it can be reused: same key, and every artifact still has the digest it was
    published with (a truncated or edited output makes the step run again)."""
    record_path = folder / STEP_RECORD
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None
    artifacts = record.get("artifacts") if isinstance(record, dict) else None
    if record.get("key") != key or not isinstance(artifacts, dict) or set(artifacts) != {a.value for a in step.outputs}:
        return None
    try:
        record["metrics"] = from_jsonable(step.Metrics, record.get("metrics"))
    except (TypeError, ValueError, KeyError):
        return None
    for entry in artifacts.values():
        path = folder / entry.get("path", "") if isinstance(entry, dict) else None
        if path is None or not path.is_file() or file_digest(path) != entry.get("sha256"):
            return None
    return record


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


BOOKKEEPING = {"config.json", "inputs.json"}


def _set_aside(partial: Path, folder: Path) -> Path | None:
    """A failed step leaves no step folder: its logs, if it wrote any, move to `<folder>.failed`
    (returned; None when there were none)."""
    failed = folder.with_name(folder.name + ".failed")
    shutil.rmtree(failed, ignore_errors=True)
    if not partial.is_dir():
        return None
    if {p.name for p in partial.iterdir()} <= BOOKKEEPING:
        shutil.rmtree(partial, ignore_errors=True)
        return None
    partial.rename(failed)
    return failed


def _name_what_exists(exc: BaseException, partial: Path, failed: Path | None) -> None:
    """An error that names files of the step's `.partial` folder names them where they now are."""
    where = str(failed) if failed is not None else f"{partial} (removed: it held no logs)"
    exc.args = tuple(a.replace(str(partial), where) if isinstance(a, str) else a for a in exc.args)


def run_flow(steps: Sequence[Step], run_dir: Path, *,
             progress: Callable[[int, int, Step, StepRecord | None], None] | None = None) -> RunRecords:
    """Run `steps` into `run_dir`, holding the folder's lock throughout (RunFolderLocked if another
    process holds it)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(20, "the run folder exists and is not a folder", str(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunFolderLock(run_dir):
        return _run_steps(steps, run_dir, progress)


def _run_steps(steps: Sequence[Step], run_dir: Path, progress) -> RunRecords:
    artifacts: dict[Artifact, Path] = {}
    records = []
    for number, step in enumerate(steps, start=1):
        missing = [a.value for a in step.inputs if a not in artifacts]
        if missing:
            raise ValueError(f"step {step.id} needs {', '.join(missing)}, which no earlier step produces")
        inputs = {a: artifacts[a] for a in step.inputs}
        folder = run_dir / f"{number:02d}-{step.id}"
        provenance = step_provenance(step, {a.value: path for a, path in inputs.items()})
        key = step_key(provenance)
        cached = _load_cached(folder, key, step)
        if progress:
            progress(number, len(steps), step, None)
        if cached is None:
            relative, record = _run_step(step, inputs, folder, run_dir, key, provenance)
        else:
            relative = {Artifact(name): entry["path"] for name, entry in cached["artifacts"].items()}
            record = StepRecord(step, folder, cached["metrics"], cached["seconds"], cached=True)
        for artifact, rel in relative.items():
            artifacts[artifact] = folder / rel
        records.append(record)
        if progress:
            progress(number, len(steps), step, record)
    return RunRecords(records, artifacts)


def _run_step(step: Step, inputs: dict[Artifact, Path], folder: Path, run_dir: Path, key: str,
              provenance: dict[str, Any]) -> tuple[dict[Artifact, str], StepRecord]:
    """Run a step into `<folder>.partial` and publish it as `folder`."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "config.json").write_text(json.dumps(step.describe_config(), indent=2))
    (partial / "inputs.json").write_text(json.dumps({a.value: str(p) for a, p in inputs.items()}, indent=2))
    start = time.perf_counter()
    try:
        outcome = step.run(inputs, partial)
        if set(outcome.artifacts) != set(step.outputs):
            raise RuntimeError(f"step {step.id} produced {sorted(a.value for a in outcome.artifacts)}, "
                               f"declared {[a.value for a in step.outputs]}")
        if not isinstance(outcome.metrics, step.Metrics):
            raise RuntimeError(f"step {step.id} returned {type(outcome.metrics).__name__} metrics, "
                               f"declared {step.Metrics.__name__}")
    except BaseException as exc:
        # Whatever the step started (simulators, Yosys) stops before its folder is set aside.
        stop_descendant_processes()
        _name_what_exists(exc, partial, _set_aside(partial, folder))
        raise
    seconds = time.perf_counter() - start
    relative = {a: str(Path(p).resolve().relative_to(partial.resolve())) for a, p in outcome.artifacts.items()}
    metrics = to_jsonable(outcome.metrics, with_type=False)
    (partial / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (partial / STEP_RECORD).write_text(json.dumps(
        {"id": step.id, "key": key,
         "artifacts": {a.value: {"path": rel, "sha256": file_digest(partial / rel)} for a, rel in relative.items()},
         "metrics": metrics, "seconds": seconds,
         "provenance": {k: v for k, v in provenance.items() if k != "config"}}, indent=2))
    # The outputs and their record reach the disk before the rename that publishes them.
    for rel in [*relative.values(), STEP_RECORD]:
        _fsync(partial / rel)
    _fsync(partial)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    _fsync(run_dir)
    return relative, StepRecord(step, folder, outcome.metrics, seconds, cached=False)
