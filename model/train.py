"""Training by backpropagation through time, in float and then quantization-aware."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from .augmentation import Augmentation
from .data_parallel import Shard, spawn
from .dataset import Dataset
from .distillation import Distiller
from .input_codes import InputCode, RateCode
from .minibatches import shuffled_batches
from .network import SNNConfig, SpikingNetwork
from .quantize import QuantizationConfig


class Backprop(enum.Enum):
    """How gradients reach the weights: through time (BPTT, exact for the surrogate) or through the
    layers' spike rates (model/rate_backprop.py: memory constant in T)."""

    THROUGH_TIME = "bptt"
    RATE = "rate"


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0
    input_code: InputCode = field(default_factory=RateCode)
    backprop: Backprop = Backprop.THROUGH_TIME
    augmentation: Augmentation | None = None  # applied to each training batch before the input code
    device: str = "cpu"       # "cpu" or "cuda" (resolve "auto" with training_device first)
    processes: int = 1        # data-parallel processes on this machine (model/data_parallel.py)

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', not {self.device!r} (training_device resolves 'auto')")
        if not isinstance(self.processes, int) or isinstance(self.processes, bool) or self.processes < 1:
            raise ValueError(f"processes must be a positive int, not {self.processes!r}")
        if self.augmentation is not None and not isinstance(self.augmentation, Augmentation):
            raise TypeError(f"augmentation must be an Augmentation object or None, not {self.augmentation!r}")
        if not isinstance(self.backprop, Backprop):
            raise TypeError(f"backprop must be a Backprop, not {self.backprop!r}")
        if not isinstance(self.input_code, InputCode):
            raise TypeError(f"input_code must be an InputCode object (RateCode(), ...), not {self.input_code!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, not {self.learning_rate}")


def training_device(name: str) -> str:
    """'cpu', 'cuda', or 'auto' (cuda when this machine has a CUDA device) as the device to train on."""
    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {name!r}")
    cuda = torch.cuda.is_available()
    if name == "cuda" and not cuda:
        raise ValueError("--device cuda: this machine has no CUDA device torch can use (torch.cuda.is_available() "
                         "is false; the project pins the CPU build of torch); train with --device cpu or auto")
    return ("cuda" if cuda else "cpu") if name == "auto" else name


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    loss: float
    train_accuracy: float
    seconds: float


def check_trainable(snn: SNNConfig, config: TrainConfig, *, quantizing: bool = False) -> None:
    """Refuse a network and training that do not go together, before any work."""
    rate_based = config.backprop is Backprop.RATE
    if rate_based and snn.dual_adaptive:
        raise ValueError("rate-based backpropagation has no gradient for DA-LIF's decays: train DA-LIF through time (bptt)")
    if not snn.batch_norm or quantizing:  # QAT trains through the normalisation's fold (effective_layer)
        return
    if rate_based:
        raise ValueError("rate-based backpropagation runs without batch normalisation: train through time (bptt), "
                         "or without batch normalisation")
    if max(config.processes, Shard.current().world) > 1:
        # Each process would normalise with its own rows' statistics, so the processes would no longer
        # compute what one process does on the global batch.
        raise ValueError("batch normalisation is not data-parallel yet (each process would see only its rows' "
                         "statistics): train it in one process")


def train(model: SpikingNetwork, dataset: Dataset, config: TrainConfig, *,
          quantization: QuantizationConfig | None = None, distiller: Distiller | None = None,
          progress: Callable[[EpochRecord], None] | None = None) -> list[EpochRecord]:
    """Minimise cross-entropy on inputs coded by config.input_code (or, with a `distiller`, its
    distillation loss, whose spike decoder trains alongside); with `quantization`, through the
    integer forward. On config.device, over config.processes data-parallel processes (or in the
    process group the caller made); the model comes back trained, on the CPU."""
    check_trainable(model.config, config, quantizing=quantization is not None)
    if config.processes > 1 and Shard.current().world == 1:
        state, history = spawn(_train_in_group, (model, dataset, config, quantization, distiller),
                               processes=config.processes, device=config.device)
        model.load_state_dict(state)
        if progress is not None:  # the processes cannot call back into this one: the records, afterwards
            for record in history:
                progress(record)
        return history
    history = _train_loop(model, dataset, config, quantization, distiller, progress, Shard.current())
    model.to("cpu")
    if distiller is not None:
        distiller.to("cpu")
    return history


def _train_in_group(payload) -> tuple[dict, list[EpochRecord]]:
    """One data-parallel process's training (model/data_parallel.spawn runs it in each)."""
    model, dataset, config, quantization, distiller = payload
    history = _train_loop(model, dataset, config, quantization, distiller, None, Shard.current())
    return {k: v.cpu() for k, v in model.state_dict().items()}, history


def _train_loop(model, dataset, config: TrainConfig, quantization, distiller, progress, shard: Shard
                ) -> list[EpochRecord]:
    rate_based = config.backprop is Backprop.RATE
    device = torch.device(config.device)
    model.to(device)
    if distiller is not None:
        distiller.to(device)
    # Every process draws the whole global batch from the same generator (the same images, shifts and
    # input code draws as one process would) and computes its own rows of it.
    generator = torch.Generator().manual_seed(config.seed)
    x_all = torch.tensor(dataset.train_x)
    y_all = torch.tensor(dataset.train_y)
    decoder = None if distiller is None else distiller.decoder
    parameters = list(model.parameters()) + ([] if decoder is None else list(decoder.parameters()))
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(config.epochs):
        start = time.perf_counter()
        total_loss, correct = 0.0, 0
        model.train()
        for batch in shuffled_batches(x_all.shape[0], config.batch_size, generator):
            x = x_all[batch] if config.augmentation is None else config.augmentation(x_all[batch], generator)
            inputs = config.input_code(x, model.config.timesteps, generator)
            mine = shard.rows(batch.numel())
            x, inputs, labels = x[mine].to(device), inputs[mine].to(device), y_all[batch][mine].to(device)
            optimizer.zero_grad()
            if labels.numel():
                out = model(inputs, quantization=quantization, record_spikes=distiller is not None,
                            rate_based=rate_based)
                if distiller is None:
                    loss = loss_fn(out.logits, labels)
                else:
                    loss = distiller.loss(x=x, labels=labels, student_logits=out.logits,
                                          student_hidden_spikes=out.spikes[distiller.student_layer])
                if shard.world > 1:  # the mean over this process's rows, weighted to its share of the batch
                    loss = loss * shard.share(batch.numel())
                loss.backward()
                total_loss += float(loss.detach()) * (batch.numel() if shard.world > 1 else labels.numel())
                correct += int((out.logits.argmax(dim=1) == labels).sum())
            shard.sum_gradients(parameters)
            optimizer.step()
        schedule.step()
        total_loss, correct = shard.sum([total_loss, correct], device)
        images = x_all.shape[0]
        record = EpochRecord(epoch, total_loss / images, correct / images, time.perf_counter() - start)
        history.append(record)
        if progress is not None:
            progress(record)
    return history


def predict(model: SpikingNetwork, spikes: np.ndarray, *, quantization: QuantizationConfig | None = None,
            batch_size: int = 512, hardware_decays: bool = False) -> np.ndarray:
    """Predicted classes (argmax of the readout, lowest index on ties) for given spike frames, or for
    intensities (B, n) fed as a direct current; hardware_decays as in SpikingNetwork.forward."""
    model.eval()
    out = []
    with torch.no_grad():
        for first in range(0, spikes.shape[0], batch_size):
            batch = torch.tensor(spikes[first:first + batch_size], dtype=torch.float32)
            out.append(model(batch, quantization=quantization, hardware_decays=hardware_decays
                             ).readout.argmax(dim=1).numpy())
    return np.concatenate(out)
