"""Training throughput of spikefab against snnTorch on the benchmark network of the training issue,
and spikefab's two backprop methods (through time, through rates) as T grows.

784-256-10 LIF, decay 0.9, threshold 1, subtract reset, T=8, batch 128, Adam, MNIST with the
intensities as a constant input current, on the CPU. Each measurement runs in its own process
(`python -m flows.benchmarks.training --framework ...`) so that its thread count and its peak memory
are its own. snnTorch 1.0 comes with the project's dev dependencies (the NIR tests use it too).

Five trainers see the same images in the same order for the same epochs:
  spikefab            its own trainer: the first layer's current computed once (the input is constant
                      over time: the "hoist"), the hidden LIF layer over all timesteps differentiated
                      by autograd (model/lif_sequence.py), the output a non-spiking
                      accumulator (one product on the hidden spike counts), cross-entropy on it / T,
                      Adam at 2e-3 with cosine decay;
  snntorch-tutorial   snnTorch as its tutorials write it: the input layer applied inside the time
                      loop, the loss summed over the output membranes of every step, spike counts for
                      prediction, Adam at 5e-4. Not the same work: it is kept to show what a user of
                      the tutorial gets;
  snntorch-same-work  snnTorch's Leaky for the hidden layer with everything else as spikefab does it
                      (hoist, accumulator readout, loss, optimizer, schedule, fast-sigmoid surrogate of
                      the same slope, threshold 1, subtract reset);
  pytorch-same-work   the same with a plain PyTorch loop and autograd (the LIF step written out):
                      what the hand-written backward pass must beat to earn its place;
  ann                 a plain PyTorch ANN of the same shape (ReLU), same loss, optimizer, schedule:
                      the limit an SNN trainer can approach.
And on the convolutional MNIST network (1x28x28 -> 16 channels 5x5 stride 2 -> 32 channels 5x5
stride 2 -> the 1568-10 accumulator readout; the same input current, decay, T, batch, optimizer):
  spikefab-conv             its trainer with Reset.SUBTRACT_AFTER_LEAK, which is snnTorch's default
                            Leaky exactly (so both compute the same network): the first convolution's
                            current once, the second convolution on all T spike maps in one call;
  snntorch-conv-same-work   snnTorch's Leaky (default reset) in the same structure, on channel-first
                            maps (spikefab runs channel-last and permutes around torch's conv2d: its
                            own cost, counted).
Only the same-work trainers compare like with like; accuracies are comparable only between runs
that train the same network the same way (spikefab, snntorch-same-work and pytorch-same-work differ
in where the reset applies: snnTorch subtracts it one step later).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("spikefab", "snntorch-tutorial", "snntorch-same-work", "pytorch-same-work", "ann")
CONV_FRAMEWORKS = ("spikefab-conv", "snntorch-conv-same-work")
SIZES = (784, 256, 10)
CONV_CHANNELS = (16, 32)  # 5x5 kernels, stride 2, padding 2: 28x28 -> 14x14 -> 7x7
TIMESTEPS = 8
BATCH_SIZE = 128
DECAY = 0.9
SNNTORCH_LEARNING_RATE = 5e-4  # the snnTorch tutorials' Adam setting
SPIKEFAB_LEARNING_RATE = 2e-3  # model/train.py's default, with cosine decay over the epochs
SURROGATE_SLOPE = 10.0         # model/surrogate.py FastSigmoid's default; snnTorch's fast_sigmoid takes the same
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class TrainingMeasurement:
    framework: str
    threads: int
    epochs: int
    images_per_s: float
    peak_rss_mib: float           # the whole process, loading MNIST included
    training_memory_mib: float    # peak resident memory while training and testing, above what it was before
    test_accuracy: float


@dataclass(frozen=True, kw_only=True)
class BackpropMeasurement:
    """spikefab's training at one T by one backprop method (rate-coded MNIST, the same network)."""

    backprop: str
    timesteps: int
    images_per_s: float
    training_memory_mib: float  # peak resident memory while training, above what it was before
    graph_mib: float            # what autograd keeps for one batch's backward pass


def _rss_mib() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _with_memory_growth(work: Callable[[], T]) -> tuple[T, float]:
    """work()'s result and the peak resident memory it took above what the process held before: the
    peak (VmHWM) restarts at the current size first (Linux: clear_refs 5), so that loading the data
    set earlier does not hide what training needs."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mib("VmRSS")
    result = work()
    return result, _status_mib("VmHWM") - before


def _train_spikefab(data, epochs: int) -> tuple[float, float]:
    from model.compiled import Readout, Reset
    from model.network import SNNConfig, SpikingNetwork

    config = SNNConfig(sizes=SIZES, timesteps=TIMESTEPS, leak_shift=None, beta=DECAY, reset=Reset.SUBTRACT,
                       readout=Readout.MEMBRANE, threshold=1.0)
    return _train_with_spikefab(SpikingNetwork(config=config, seed=0), data, epochs)


def _train_with_spikefab(model, data, epochs: int) -> tuple[float, float]:
    """(images/s, test accuracy) of spikefab's trainer on `model`, the intensities as a direct current."""
    import torch

    from model.input_codes import DirectCurrent
    from model.train import TrainConfig, predict, train

    history = train(model, data, TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, input_code=DirectCurrent()))
    seconds = sum(record.seconds for record in history)
    with torch.no_grad():
        accuracy = float((predict(model, data.test_x) == data.test_y).mean())
    return epochs * data.train_x.shape[0] / seconds, accuracy


def spikefab_conv_model():
    """The convolutional benchmark network in spikefab (seed 0)."""
    from model.compiled import Readout, Reset
    from model.convolution import ConvShape
    from model.network import SNNConfig, SpikingNetwork

    config = SNNConfig(sizes=(SIZES[0], SIZES[-1]), timesteps=TIMESTEPS, leak_shift=None, beta=DECAY,
                       reset=Reset.SUBTRACT_AFTER_LEAK, readout=Readout.MEMBRANE, threshold=1.0, image=(1, 28, 28),
                       convolutions=tuple(ConvShape(out_channels=c, kernel=5, stride=2, padding=2) for c in CONV_CHANNELS))
    return SpikingNetwork(config=config, seed=0)


def _train_spikefab_conv(data, epochs: int) -> tuple[float, float]:
    return _train_with_spikefab(spikefab_conv_model(), data, epochs)


def snntorch_conv_model():
    """The convolutional benchmark network in snnTorch, doing spikefab's work (seed 0: the same
    initial weights, made in the same order)."""
    import snntorch
    import torch
    from snntorch import surrogate
    from torch import nn

    class SameWorkConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, CONV_CHANNELS[0], 5, stride=2, padding=2)
            self.conv2 = nn.Conv2d(CONV_CHANNELS[0], CONV_CHANNELS[1], 5, stride=2, padding=2)
            self.readout = nn.Linear(CONV_CHANNELS[1] * 7 * 7, SIZES[-1])
            grad = surrogate.fast_sigmoid(slope=SURROGATE_SLOPE)
            self.lif1 = snntorch.Leaky(beta=DECAY, threshold=1.0, spike_grad=grad)
            self.lif2 = snntorch.Leaky(beta=DECAY, threshold=1.0, spike_grad=grad)

        @staticmethod
        def _over_time(lif, current):
            mem, spikes = lif.init_leaky(), []
            for t in range(TIMESTEPS):
                spk, mem = lif(current if current.dim() == 4 else current[t], mem)
                spikes.append(spk)
            return torch.stack(spikes)  # (T, B, C, H, W)

        def forward(self, x):
            first = self._over_time(self.lif1, self.conv1(x.reshape(-1, 1, 28, 28)))
            steps, batch = first.shape[:2]
            current = self.conv2(first.flatten(0, 1)).unflatten(0, (steps, batch))
            # Flattened channel-last, as spikefab's readout takes them (the same weights then mean the same).
            counts = self._over_time(self.lif2, current).sum(dim=0).permute(0, 2, 3, 1).flatten(1)
            return (counts @ self.readout.weight.t() + TIMESTEPS * self.readout.bias) / TIMESTEPS

    torch.manual_seed(0)
    return SameWorkConv()


def _train_snntorch_conv_same_work(data, epochs: int) -> tuple[float, float]:
    return _train_like_spikefab(snntorch_conv_model(), data, epochs)


def _train_snntorch_tutorial(data, epochs: int) -> tuple[float, float]:
    import snntorch
    import torch
    from torch import nn

    from model.minibatches import shuffled_batches

    class TutorialNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.lif1 = nn.Linear(SIZES[0], SIZES[1]), snntorch.Leaky(beta=DECAY)
            self.fc2, self.lif2 = nn.Linear(SIZES[1], SIZES[2]), snntorch.Leaky(beta=DECAY)

        def forward(self, x):
            mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
            spikes, membranes = [], []
            for _ in range(TIMESTEPS):
                spk1, mem1 = self.lif1(self.fc1(x), mem1)
                spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
                spikes.append(spk2)
                membranes.append(mem2)
            return torch.stack(spikes), torch.stack(membranes)

    torch.manual_seed(0)
    model = TutorialNetwork()
    optimizer = torch.optim.Adam(model.parameters(), lr=SNNTORCH_LEARNING_RATE, betas=(0.9, 0.999))
    loss_fn = nn.CrossEntropyLoss()
    x_all, y_all = torch.tensor(data.train_x), torch.tensor(data.train_y)
    generator = torch.Generator().manual_seed(0)  # spikefab's train() seed: the same batches
    seconds = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in shuffled_batches(x_all.shape[0], BATCH_SIZE, generator):
            _, membranes = model(x_all[batch])
            loss = sum(loss_fn(membranes[t], y_all[batch]) for t in range(TIMESTEPS))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - start
    with torch.no_grad():
        spikes, _ = model(torch.tensor(data.test_x))
        accuracy = float((spikes.sum(dim=0).argmax(dim=1).numpy() == data.test_y).mean())
    return epochs * x_all.shape[0] / seconds, accuracy


def _train_like_spikefab(model, data, epochs: int) -> tuple[float, float]:
    """model (x -> logits) trained exactly as model/train.py trains: the same batches, Adam at
    SPIKEFAB_LEARNING_RATE with cosine decay, cross-entropy, the same per-batch bookkeeping."""
    import torch
    from torch import nn

    from model.minibatches import shuffled_batches

    optimizer = torch.optim.Adam(model.parameters(), lr=SPIKEFAB_LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    x_all, y_all = torch.tensor(data.train_x), torch.tensor(data.train_y)
    generator = torch.Generator().manual_seed(0)
    seconds = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        total_loss, correct = 0.0, 0
        for batch in shuffled_batches(x_all.shape[0], BATCH_SIZE, generator):
            logits = model(x_all[batch])
            loss = loss_fn(logits, y_all[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += float(loss.detach()) * batch.numel()
            correct += int((logits.argmax(dim=1) == y_all[batch]).sum())
        schedule.step()
        seconds += time.perf_counter() - start
    with torch.no_grad():
        accuracy = float((model(torch.tensor(data.test_x)).argmax(dim=1).numpy() == data.test_y).mean())
    return epochs * x_all.shape[0] / seconds, accuracy


def _same_work_network(hidden_layer):
    """784-256-10 as spikefab computes it: the first layer's current once, `hidden_layer(current)` ->
    spikes (T, B, n) over the timesteps, the accumulator readout as one product on the spike counts."""
    import torch
    from torch import nn

    class SameWork(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(SIZES[0], SIZES[1]), nn.Linear(SIZES[1], SIZES[2])
            self.hidden = hidden_layer

        def forward(self, x):
            counts = self.hidden(self.fc1(x)).sum(dim=0)
            return (counts @ self.fc2.weight.t() + TIMESTEPS * self.fc2.bias) / TIMESTEPS

    torch.manual_seed(0)
    return SameWork()


def _snntorch_hidden():
    import snntorch
    import torch
    from snntorch import surrogate

    lif = snntorch.Leaky(beta=DECAY, threshold=1.0, spike_grad=surrogate.fast_sigmoid(slope=SURROGATE_SLOPE),
                         reset_mechanism="subtract")

    def hidden(current):
        mem, spikes = lif.init_leaky(), []
        for _ in range(TIMESTEPS):
            spk, mem = lif(current, mem)
            spikes.append(spk)
        return torch.stack(spikes)

    return hidden


def _pytorch_hidden():
    import torch

    class Spike(torch.autograd.Function):
        """Heaviside forward, fast-sigmoid derivative backward (model/surrogate.py's FastSigmoid)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x >= 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / (1.0 + SURROGATE_SLOPE * x.abs()) ** 2

    def hidden(current):
        v, spikes = torch.zeros_like(current), []
        for _ in range(TIMESTEPS):
            v = DECAY * v + current
            s = Spike.apply(v - 1.0)
            v = v - s.detach()  # subtract reset, not differentiated (as in spikefab)
            spikes.append(s)
        return torch.stack(spikes)

    return hidden


def _train_same_work(data, epochs: int, hidden_layer) -> tuple[float, float]:
    return _train_like_spikefab(_same_work_network(hidden_layer), data, epochs)


def _train_ann(data, epochs: int) -> tuple[float, float]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]))
    return _train_like_spikefab(model, data, epochs)


TRAINERS = {
    "spikefab": _train_spikefab,
    "snntorch-tutorial": _train_snntorch_tutorial,
    "snntorch-same-work": lambda data, epochs: _train_same_work(data, epochs, _snntorch_hidden()),
    "pytorch-same-work": lambda data, epochs: _train_same_work(data, epochs, _pytorch_hidden()),
    "ann": _train_ann,
    "spikefab-conv": _train_spikefab_conv,
    "snntorch-conv-same-work": _train_snntorch_conv_same_work,
}


def measure(framework: str, *, threads: int, epochs: int, data_path: str | None = None) -> TrainingMeasurement:
    """One training run in this process (call it in a fresh process: threads and memory are global)."""
    import torch

    from model.datasets import load_dataset

    torch.set_num_threads(threads)
    data = load_dataset("mnist", data_path)
    (images_per_s, accuracy), growth = _with_memory_growth(lambda: TRAINERS[framework](data, epochs))
    return TrainingMeasurement(framework=framework, threads=threads, epochs=epochs, images_per_s=images_per_s,
                               peak_rss_mib=_rss_mib(), training_memory_mib=growth, test_accuracy=accuracy)


def measure_backprop(backprop: str, *, timesteps: int, images: int, data_path: str | None = None
                     ) -> BackpropMeasurement:
    """Train on the first `images` MNIST images once; call it in a fresh process (peak memory is global)."""
    import torch

    from model.compiled import Readout
    from model.datasets import load_dataset
    from model.graph_memory import saved_tensor_bytes
    from model.input_codes import RateCode
    from model.network import SNNConfig, SpikingNetwork
    from model.train import Backprop, TrainConfig, train

    torch.set_num_threads(1)
    full = load_dataset("mnist", data_path)
    data = dataclasses.replace(full, train_x=full.train_x[:images], train_y=full.train_y[:images])
    model = SpikingNetwork(config=SNNConfig(sizes=SIZES, timesteps=timesteps, readout=Readout.MEMBRANE), seed=0)
    history, peak = _with_memory_growth(
        lambda: train(model, data, TrainConfig(epochs=1, batch_size=BATCH_SIZE, backprop=Backprop(backprop))))
    batch = RateCode()(torch.tensor(data.train_x[:BATCH_SIZE]), timesteps, torch.Generator().manual_seed(0))
    graph = saved_tensor_bytes(lambda: model(batch, rate_based=backprop == "rate").logits.sum())
    return BackpropMeasurement(backprop=backprop, timesteps=timesteps, images_per_s=images / history[0].seconds,
                               training_memory_mib=peak, graph_mib=graph / 2**20)


def _run_child(args: list[str]) -> dict:
    """This module in a fresh Python process, with OpenMP told not to spin (on shared 2-core machines a
    spinning 2-thread torch runs erratically)."""
    threads = args[args.index("--threads") + 1] if "--threads" in args else "1"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": threads,
           "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-m", "flows.benchmarks.training", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the training benchmark ({' '.join(args)}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_backprop_in_process(backprop: str, *, timesteps: int, images: int) -> BackpropMeasurement:
    return BackpropMeasurement(**_run_child(["--backprop", backprop, "--timesteps", str(timesteps),
                                            "--images", str(images)]))


def measure_in_process(framework: str, *, threads: int, epochs: int) -> TrainingMeasurement:
    """measure() in a fresh Python process."""
    if framework not in TRAINERS:
        raise ValueError(f"framework must be one of {', '.join(TRAINERS)}, not {framework!r}")
    return TrainingMeasurement(**_run_child(["--framework", framework, "--threads", str(threads),
                                             "--epochs", str(epochs)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.benchmarks.training")
    parser.add_argument("--framework", choices=tuple(TRAINERS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--backprop", choices=("bptt", "rate"), help="measure spikefab's backprop methods instead")
    parser.add_argument("--timesteps", type=int, default=TIMESTEPS)
    parser.add_argument("--images", type=int, default=6400)
    parser.add_argument("--data-path")
    args = parser.parse_args(argv)
    if args.backprop is not None:
        result = measure_backprop(args.backprop, timesteps=args.timesteps, images=args.images, data_path=args.data_path)
    elif args.framework is not None:
        result = measure(args.framework, threads=args.threads, epochs=args.epochs, data_path=args.data_path)
    else:
        parser.error("give --framework or --backprop")
    print(json.dumps(result.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
