"""A step of the flow: an id, declared input and output artifacts, a frozen config, a frozen metrics
class, and run(inputs, folder) -> StepOutcome."""

from __future__ import annotations

import abc
import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from flows.engine.typed_json import to_jsonable


class Artifact(enum.Enum):
    """The kinds of file that steps hand to each other."""

    TEST_SET = "test_set"                  # encoded test spikes and labels (flows/steps/test_set.py)
    FLOAT_MODEL = "float_model"            # the trained torch state dict
    NETWORK = "network"                    # a CompiledNetwork file
    TORCH_PREDICTIONS = "torch_predictions"  # the quantized torch model's classes on the test set
    EXIT_CURVE = "exit_curve"              # early-exit calibration: accuracy against timesteps
    REFERENCE = "reference"                # the reference's classes, cycles and spike counts
    VERILOG_TRACE = "verilog_trace"        # the core with its trace port (verification)
    VERILOG = "verilog"                    # the core without it (synthesis)
    DATASHEET = "datasheet"                # the core's interface, protocol and timing, in Markdown
    VERIFICATION = "verification"          # the verify step's metrics
    NETLIST = "netlist"                    # mapped Verilog netlist, flat
    NETLIST_JSON = "netlist_json"          # the same as Yosys JSON
    MACROS = "macros"                      # the SRAM macros' shapes and cost model
    HIERARCHICAL_NETLIST = "hierarchical_netlist"
    HIERARCHICAL_NETLIST_JSON = "hierarchical_netlist_json"
    TIMING = "timing"                      # the timing step's metrics
    ENERGY = "energy"                      # the power step's metrics


@dataclass(frozen=True)
class StepOutcome:
    artifacts: dict[Artifact, Path]
    metrics: Any  # an instance of the step's Metrics class


class Step(abc.ABC):
    id: ClassVar[str]
    inputs: ClassVar[tuple[Artifact, ...]] = ()
    outputs: ClassVar[tuple[Artifact, ...]] = ()
    Metrics: ClassVar[type]  # the frozen dataclass of what the step measures
    # External programs the step runs: their executables are part of its cache key.
    tools: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any):
        if not dataclasses.is_dataclass(config) or not type(config).__dataclass_params__.frozen:
            raise TypeError(f"{type(self).__name__} takes a frozen dataclass config, not {type(config).__name__}")
        self.config = config

    @abc.abstractmethod
    def run(self, inputs: dict[Artifact, Path], folder: Path) -> StepOutcome:
        """Read `inputs`, write outputs into `folder` (new and empty), return them and the metrics."""

    def describe_config(self) -> dict[str, Any]:
        return to_jsonable(self.config)

    def tool_files(self) -> dict[str, Path]:
        """Data files outside the run that the step's tools read (a liberty, say): digested into its key."""
        return {}
