"""Runs a list of steps into a run folder, one sub-folder per step. A step whose config and input
files are unchanged is not redone; a step is written to `<folder>.partial` and renamed when it
succeeds, so an interrupted or failed run leaves no half-written step and resumes where it stopped.
A failed step's logs are kept in `<folder>.failed` for inspection."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .step import Step

STEP_RECORD = "step.json"


@dataclass(frozen=True)
class StepRecord:
    id: str
    folder: Path
    metrics: dict[str, Any]
    seconds: float
    cached: bool


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def step_key(step: Step, inputs: dict[str, Path]) -> str:
    payload = {"config": step.describe_config(), "inputs": {k: file_digest(p) for k, p in sorted(inputs.items())}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _load_cached(folder: Path, key: str, outputs: Sequence[str]) -> dict | None:
    record_path = folder / STEP_RECORD
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except json.JSONDecodeError:
        return None
    if record.get("key") != key or set(record.get("artifacts", {})) != set(outputs):
        return None
    if not all((folder / rel).is_file() for rel in record["artifacts"].values()):
        return None
    return record


BOOKKEEPING = {"config.json", "inputs.json"}


def _set_aside(partial: Path, folder: Path) -> None:
    """A failed step leaves no step folder: its logs, if it wrote any, move to `<folder>.failed`."""
    failed = folder.with_name(folder.name + ".failed")
    shutil.rmtree(failed, ignore_errors=True)
    if {p.name for p in partial.iterdir()} <= BOOKKEEPING:
        shutil.rmtree(partial, ignore_errors=True)
    else:
        partial.rename(failed)


def run_flow(steps: Sequence[Step], run_dir: Path, *,
             progress: Callable[[int, int, Step, StepRecord | None], None] | None = None) -> list[StepRecord]:
    run_dir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Path] = {}
    records = []
    for number, step in enumerate(steps, start=1):
        missing = [name for name in step.inputs if name not in artifacts]
        if missing:
            raise ValueError(f"step {step.id} needs {', '.join(missing)}, which no earlier step produces")
        inputs = {name: artifacts[name] for name in step.inputs}
        folder = run_dir / f"{number:02d}-{step.id}"
        key = step_key(step, inputs)
        cached = _load_cached(folder, key, step.outputs)
        if progress:
            progress(number, len(steps), step, None)
        if cached is None:
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            (partial / "config.json").write_text(json.dumps(step.describe_config(), indent=2))
            (partial / "inputs.json").write_text(json.dumps({k: str(v) for k, v in inputs.items()}, indent=2))
            start = time.perf_counter()
            try:
                outcome = step.run(inputs, partial)
            except BaseException:
                _set_aside(partial, folder)
                raise
            seconds = time.perf_counter() - start
            if set(outcome.artifacts) != set(step.outputs):
                raise RuntimeError(f"step {step.id} produced {sorted(outcome.artifacts)}, declared {list(step.outputs)}")
            relative = {name: str(Path(p).resolve().relative_to(partial.resolve()))
                        for name, p in outcome.artifacts.items()}
            (partial / "metrics.json").write_text(json.dumps(outcome.metrics, indent=2))
            (partial / STEP_RECORD).write_text(json.dumps(
                {"id": step.id, "key": key, "artifacts": relative, "metrics": outcome.metrics,
                 "seconds": seconds}, indent=2))
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            record = StepRecord(step.id, folder, outcome.metrics, seconds, cached=False)
        else:
            relative = cached["artifacts"]
            record = StepRecord(step.id, folder, cached["metrics"], cached["seconds"], cached=True)
        for name, rel in relative.items():
            artifacts[name] = folder / rel
        records.append(record)
        if progress:
            progress(number, len(steps), step, record)
    return records
