"""A step of the flow: an id, declared input and output artifacts, a frozen config, and
run(inputs, folder) -> StepOutcome. Artifacts are files; metrics are JSON-able values."""

from __future__ import annotations

import abc
import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class StepOutcome:
    artifacts: dict[str, Path]
    metrics: dict[str, Any] = field(default_factory=dict)


class Step(abc.ABC):
    id: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()
    # External programs the step runs: their executables are part of its cache key.
    tools: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any):
        if not dataclasses.is_dataclass(config) or not type(config).__dataclass_params__.frozen:
            raise TypeError(f"{type(self).__name__} takes a frozen dataclass config, not {type(config).__name__}")
        self.config = config

    @abc.abstractmethod
    def run(self, inputs: dict[str, Path], folder: Path) -> StepOutcome:
        """Read `inputs`, write outputs into `folder` (new and empty), return them and the metrics."""

    def describe_config(self) -> dict[str, Any]:
        return to_jsonable(self.config)

    def tool_files(self) -> dict[str, Path]:
        """Data files outside the run that the step's tools read (a liberty, say): digested into its key."""
        return {}


# Field metadata for a setting that changes how fast a step runs, never what it writes (e.g. how many
# simulator processes share the work): left out of the step's description, so changing it reuses the step.
SPEED_ONLY = {"speed_only": True}


def to_jsonable(value: Any) -> Any:
    """Configs as plain JSON: dataclasses by field (with their type, without SPEED_ONLY fields), enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                  if not f.metadata.get("speed_only")}
        return {"type": type(value).__name__, **fields}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value
