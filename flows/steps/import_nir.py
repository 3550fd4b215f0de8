"""Import a NIR graph as spikefab's float model, in place of training: the quantize step and
everything after it then run as they do on a network spikefab trained."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import torch

from flows.engine.figures import measured, setting
from flows.engine.provenance import file_digest
from flows.engine.step import Artifact, Step, StepOutcome
from flows.steps.test_set import EncodedTestSet, accuracy
from model.network import SNNConfig, SpikingNetwork, nearest_leak_shift
from model.nir_import import UNIFORM, ImportedNetwork, NirConventions, import_nir, nir_file
from model.train import predict


@functools.lru_cache(maxsize=8)
def _import_once(path: str, digest: str, conventions: NirConventions) -> ImportedNetwork:
    """The configuration asks for the graph several times (checks, sizes, the float model's config, the
    step): one read and import per file content and conventions. `digest` is only the cache's key."""
    return import_nir(path, conventions)


@dataclass(frozen=True, kw_only=True)
class NirSource:
    """A .nir file and how to step it. The file's digest is part of the configuration, so a changed
    file is imported again, and the graph is checked when the source is made: a graph the core cannot
    run stops the run before its first step."""

    path: str
    conventions: NirConventions = field(default_factory=NirConventions)
    digest: str = ""  # set from the file

    def __post_init__(self) -> None:
        if not isinstance(self.conventions, NirConventions):
            raise TypeError(f"conventions must be NirConventions, not {self.conventions!r}")
        object.__setattr__(self, "digest", file_digest(nir_file(self.path)))
        self.imported()

    def imported(self) -> ImportedNetwork:
        return _import_once(self.path, self.digest, self.conventions)

    def snn(self, *, timesteps: int, surrogate) -> SNNConfig:
        """spikefab's float model of the graph: its sizes, shared decay (beta; none for IF), reset and
        readout, threshold 1 (the graph's thresholds are folded into the weights)."""
        net = self.imported()
        return SNNConfig(sizes=net.sizes, timesteps=timesteps, leak_shift=None, beta=net.beta, reset=net.reset,
                         readout=net.readout, surrogate=surrogate, threshold=1.0, image=net.image,
                         convolutions=net.convolutions)


@dataclass(frozen=True, kw_only=True)
class ImportStepConfig:
    source: NirSource
    snn: SNNConfig


@dataclass(frozen=True, kw_only=True)
class ImportMetrics:
    accuracy_float: float = measured("fraction", "spikefab's float model of the imported graph on the encoded test "
                                     "set, every timestep")
    dt_s: float = setting("the Euler step the graph's time constants were discretised with", "s")
    decay_per_step: float | None = setting("the spiking layers' decay 1 - dt / tau (null: integrate-and-fire)")
    reset: str = setting("the reset the core will use (the graph's v_reset = 0 is to zero; subtract when told or "
                         "recorded)")
    readout: str = setting("spike_count (a spiking last layer) or membrane (LI or I: the accumulator)")
    approximations: tuple[str, ...] = setting("every place the core's semantics differ from the graph's")


class ImportNirStep(Step):
    """The graph's layers as a SpikingNetwork state (float_model.pt), as training would have left it."""

    id = "import"
    inputs = (Artifact.TEST_SET,)
    outputs = (Artifact.FLOAT_MODEL,)
    Metrics = ImportMetrics

    def run(self, inputs, folder: Path) -> StepOutcome:
        cfg: ImportStepConfig = self.config
        imported = cfg.source.imported()
        model = SpikingNetwork(config=cfg.snn)
        with torch.no_grad():
            for linear, layer in zip(model.layers, imported.layers):
                linear.weight.copy_(torch.tensor(layer.weight, dtype=linear.weight.dtype))
                linear.bias.copy_(torch.tensor(layer.bias, dtype=linear.bias.dtype))
        path = folder / "float_model.pt"
        torch.save(model.state_dict(), path)
        test = EncodedTestSet.load(inputs[Artifact.TEST_SET])
        return StepOutcome({Artifact.FLOAT_MODEL: path}, ImportMetrics(
            accuracy_float=accuracy(predict(model, test.spikes), test.labels),
            dt_s=imported.conventions.dt,
            decay_per_step=imported.beta,
            reset=imported.reset.value,
            readout=imported.readout.value,
            approximations=imported.approximations + _decay_mapping(imported.beta),
        ))


def _decay_mapping(beta: float | None) -> tuple[str, ...]:
    """The core's leak is a shift: a decay 1 - 2^-k holds exactly, any other is mapped to the nearest
    (quantize measures what that costs: accuracy_float_hardware_decays)."""
    if beta is None:
        return ()
    shift = nearest_leak_shift(beta)
    held = 1.0 - 2.0 ** -shift
    if abs(held - beta) <= UNIFORM * beta:
        return ()
    return (f"decay {beta:.6g} per step mapped to leak shift {shift} (decay {held:g}), the nearest the core holds",)
