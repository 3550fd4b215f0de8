"""Networks trained in snnTorch and Norse and written by the frameworks' own NIR exports: what their
users bring to `spikefab run --nir`. The NIR benchmark trains them on MNIST, the NIR tests on digits.

Both take spike frames, one timestep at a time, from the Bernoulli rate code spikefab's encode step
uses (snnTorch's spikegen.rate draws the same way): the core takes events, so a network fed the
intensities as a direct current (as snnTorch's tutorial 5 does) would be run on other inputs than it
was trained on. Both read the class from the output layer's spike counts, as the core does.

Two details the exports force, stated here rather than hidden:
- snnTorch 1.0's export writes scalar parameters that nir 1.0.8 cannot write to a file, so beta and
  the threshold are per-neuron tensors of the same values (the dynamics are identical);
- Norse 1.1's export does the same with scalar LIFBox parameters; they too are per-neuron.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from model.compiled import Reset
from model.input_codes import RateCode
from model.minibatches import shuffled_batches
from model.nir_export import write_graph
from model.nir_import import NirConventions


@dataclass(frozen=True, kw_only=True)
class TrainingRecipe:
    """How the framework trains: Adam at `learning_rate`, cross-entropy on the output layer's spike
    counts ("counts") or summed over the output membranes of every step ("membranes", snnTorch's
    tutorial 5)."""

    timesteps: int
    epochs: int
    batch_size: int = 128
    learning_rate: float = 5e-4
    loss_on: Literal["counts", "membranes"] = "counts"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("timesteps", "epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, not {getattr(self, name)!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, not {self.learning_rate!r}")
        if self.loss_on not in ("counts", "membranes"):
            raise ValueError(f"loss_on must be 'counts' or 'membranes', not {self.loss_on!r}")


class FrameworkNetwork:
    """A feed-forward LIF network in one framework, stepped one timestep at a time."""

    framework: str
    module: nn.Module
    sizes: tuple[int, ...]

    def _layer_shapes(self, sizes: tuple[int, ...], seed: int) -> list[tuple[int, int]]:
        """(n_in, n_out) per layer, after checking the sizes and seeding the layers' initialisation."""
        if len(sizes) < 2:
            raise ValueError(f"sizes needs an input and at least one layer, not {sizes!r}")
        self.sizes = tuple(sizes)
        torch.manual_seed(seed)
        return list(zip(sizes[:-1], sizes[1:]))

    def reset(self) -> None:
        raise NotImplementedError

    def step(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The output layer's spikes for this timestep's input, and its membrane where the framework
        gives it (None otherwise)."""
        raise NotImplementedError

    def graph(self):
        """The network as the framework's own NIR export writes it."""
        raise NotImplementedError

    def conventions(self) -> NirConventions:
        """How spikefab steps this framework's graph (its dt; the reset its export does not record)."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def write_nir(self, path: Path) -> Path:
        return write_graph(self.graph(), path)

    def spike_counts(self, spikes: torch.Tensor) -> torch.Tensor:
        """Output spike counts (B, n_out) for frames (B, T, n_in)."""
        self.reset()
        counts = 0
        for t in range(spikes.shape[1]):
            out, _ = self.step(spikes[:, t])
            counts = counts + out
        return counts

    def predict(self, spikes: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """The class per frame set, from the output spike counts (the first of equal counts wins, as
        in the core's argmax)."""
        with torch.no_grad():
            return np.concatenate([
                self.spike_counts(torch.tensor(spikes[i:i + batch_size], dtype=torch.float32)).argmax(dim=1).numpy()
                for i in range(0, spikes.shape[0], batch_size)])

    def train(self, x: np.ndarray, y: np.ndarray, recipe: TrainingRecipe) -> float:
        """Trains on intensities x (N, n_in) rate-coded afresh per batch; the seconds it took."""
        torch.manual_seed(recipe.seed)
        generator = torch.Generator().manual_seed(recipe.seed)
        optimizer = torch.optim.Adam(self.module.parameters(), lr=recipe.learning_rate, betas=(0.9, 0.999))
        x_all, y_all = torch.tensor(np.asarray(x, dtype=np.float32)), torch.tensor(np.asarray(y, dtype=np.int64))
        code = RateCode()
        start = time.perf_counter()
        for _ in range(recipe.epochs):
            for batch in shuffled_batches(x_all.shape[0], recipe.batch_size, generator):
                spikes = code(x_all[batch], recipe.timesteps, generator)
                loss = self._loss(spikes, y_all[batch], recipe.loss_on)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return time.perf_counter() - start

    def _loss(self, spikes: torch.Tensor, labels: torch.Tensor, loss_on: str) -> torch.Tensor:
        if loss_on == "counts":
            return nn.functional.cross_entropy(self.spike_counts(spikes), labels)
        self.reset()
        loss = 0
        for t in range(spikes.shape[1]):
            _, membrane = self.step(spikes[:, t])
            loss = loss + nn.functional.cross_entropy(membrane, labels)
        return loss


class SnnTorchNetwork(FrameworkNetwork):
    """Linear and snnTorch Leaky layers in an nn.Sequential with hidden state, the form snnTorch's NIR
    export takes. reset_to_zero: Leaky(reset_mechanism="zero", reset_delay=False), which NIR's
    v_reset = 0 says exactly; otherwise snnTorch's default Leaky, which subtracts the threshold after the
    next leak (the core's Reset.SUBTRACT_AFTER_LEAK)."""

    framework = "snntorch"

    def __init__(self, *, sizes: tuple[int, ...], beta: float, reset_to_zero: bool, seed: int = 0):
        import snntorch

        if not 0 < beta < 1:
            raise ValueError(f"beta must be in (0, 1), not {beta!r}")
        self.reset_to_zero = reset_to_zero
        reset = {"reset_mechanism": "zero", "reset_delay": False} if reset_to_zero else {}
        layers: list[nn.Module] = []
        for k, (n_in, n_out) in enumerate(self._layer_shapes(sizes, seed)):
            layers += [nn.Linear(n_in, n_out),
                       snntorch.Leaky(beta=torch.full((n_out,), beta), threshold=torch.ones(n_out), init_hidden=True,
                                      output=k == len(sizes) - 2, **reset)]
        self.module = nn.Sequential(*layers)

    def reset(self) -> None:
        from snntorch import utils

        utils.reset(self.module)

    def step(self, x):
        return self.module(x)

    def graph(self):
        from snntorch.export_nir import export_to_nir

        return export_to_nir(self.module, torch.zeros(self.sizes[0]))

    def conventions(self) -> NirConventions:
        return NirConventions.of("snntorch", reset=None if self.reset_to_zero else Reset.SUBTRACT_AFTER_LEAK)

    def version(self) -> str:
        import snntorch

        return snntorch.__version__


class NorseNetwork(FrameworkNetwork):
    """Linear and Norse LIFBoxCell layers (its current-free LIF, which resets to v_reset at once) in a
    SequentialState, stepped at Norse's dt. tau_mem_inv: LIFBoxParameters' (100 /s by default, a decay
    of 0.9 per 1 ms step). Norse's own MNIST example uses LIFCell, a current-based LIF (NIR CubaLIF),
    which the core has no state for."""

    framework = "norse"

    def __init__(self, *, sizes: tuple[int, ...], tau_mem_inv: float = 100.0, seed: int = 0):
        import norse.torch as norse

        if not tau_mem_inv > 0:
            raise ValueError(f"tau_mem_inv must be positive, not {tau_mem_inv!r}")
        layers: list[nn.Module] = []
        for n_in, n_out in self._layer_shapes(sizes, seed):
            parameters = norse.LIFBoxParameters(tau_mem_inv=torch.full((n_out,), float(tau_mem_inv)),
                                                v_th=torch.ones(n_out), v_leak=torch.zeros(n_out),
                                                v_reset=torch.zeros(n_out))
            layers += [nn.Linear(n_in, n_out), norse.LIFBoxCell(parameters)]
        self.module = norse.SequentialState(*layers)
        self._state = None

    def reset(self) -> None:
        self._state = None

    def step(self, x):
        out, self._state = self.module(x, self._state)
        return out, None

    def _loss(self, spikes, labels, loss_on):
        if loss_on != "counts":
            raise ValueError("Norse's SequentialState does not return the output membrane: train on counts")
        return super()._loss(spikes, labels, loss_on)

    def graph(self):
        import norse.torch as norse

        return norse.to_nir(self.module, torch.zeros(self.sizes[0]))

    def conventions(self) -> NirConventions:
        return NirConventions.of("norse")

    def version(self) -> str:
        from importlib.metadata import version

        return version("norse")
