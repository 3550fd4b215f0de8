"""Knowledge distillation from an ANN teacher into the spiking student.

Two paths, as in DNN-to-SNN distillation: the output path matches the student's logits to the
teacher's (a KL loss chosen by object: OutputKL or HeadTailAwareKL), and the intermediate path
decodes the student's first fully connected hidden layer (spike rates over the timesteps, through
a learned linear decoder) into the teacher's first fully connected hidden activations (mean squared
error). A convolutional student gets a teacher with its convolutions (ReLU in place of spikes), so
that the two see the image through the same receptive fields. The teacher is trained first, on the
same images as plain intensities and with the student's augmentation (the student's batches are
augmented before the teacher labels them, so a teacher that never saw a mirrored coat would mislabel
half of them), and then frozen.

Training loss: (1 - output_weight) CE(student, labels) + output_weight KD(student, teacher)
               + hidden_weight MSE(decoder(rates), teacher hidden).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .augmentation import Augmentation
from .convolution import ConvShape, chain_geometries
from .dataset import Dataset
from .minibatches import shuffled_batches
from .network import SNNConfig
from .synapses import synaptic_current


class ANNTeacher(nn.Module):
    """A ReLU network on the intensities: sizes (inputs, hidden..., classes), the hidden and output
    layers fully connected; with `convolutions` on an `image` of (channels, height, width) (inputs in
    the students' channel-last order), ReLU convolutions come first and sizes[1:] follow them."""

    def __init__(self, *, sizes: tuple[int, ...], seed: int = 0, image: tuple[int, int, int] | None = None,
                 convolutions: tuple[ConvShape, ...] = ()):
        super().__init__()
        if len(sizes) < 3:
            raise ValueError(f"the teacher needs a hidden layer for the intermediate path, not sizes {sizes!r}")
        geometries = []
        if convolutions:
            if image is None or image[0] * image[1] * image[2] != sizes[0]:
                raise ValueError(f"a convolutional teacher needs the image's (channels, height, width), whose "
                                 f"product is the {sizes[0]} inputs; not {image!r}")
            geometries = chain_geometries(image, convolutions)
        self.geometries = tuple(geometries)
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.convolutions = nn.ModuleList(
            nn.Conv2d(g.in_channels, g.out_channels, g.kernel, stride=g.stride, padding=g.padding) for g in geometries)
        flat = geometries[-1].n_out if geometries else sizes[0]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip((flat, *sizes[1:-1]), sizes[1:]))
        torch.random.set_rng_state(generator_state)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, first fully connected hidden layer's activations)."""
        # The student's synaptic current, so that both read the flat channel-last maps the same way.
        for convolution, geometry in zip(self.convolutions, self.geometries):
            x = F.relu(synaptic_current(x, convolution.weight, convolution.bias, geometry))
        first = None
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < len(self.layers) - 1:
                x = F.relu(x)
                first = x if first is None else first
        return x, first


def train_teacher(data: Dataset, *, student: SNNConfig, hidden: tuple[int, ...], epochs: int, batch_size: int = 128,
                  learning_rate: float = 1e-3, seed: int = 0, augmentation: Augmentation | None = None
                  ) -> tuple[ANNTeacher, float]:
    """The teacher for `student` (with its convolutions, if any, then the `hidden` dense layers) trained
    with cross-entropy on batches augmented as the student's are, the learning rate annealed on a
    cosine as the student's is, then frozen; returns it and its test accuracy."""
    teacher = ANNTeacher(sizes=(data.n_features, *hidden, data.n_classes), seed=seed, image=student.image,
                         convolutions=student.convolutions)
    generator = torch.Generator().manual_seed(seed)
    x_all, y_all = torch.tensor(data.train_x), torch.tensor(data.train_y)
    optimizer = torch.optim.Adam(teacher.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        for batch in shuffled_batches(x_all.shape[0], batch_size, generator):
            x = x_all[batch] if augmentation is None else augmentation(x_all[batch], generator)
            loss = F.cross_entropy(teacher(x)[0], y_all[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
    teacher.requires_grad_(False).eval()
    with torch.no_grad():
        accuracy = float((teacher(torch.tensor(data.test_x))[0].argmax(dim=1).numpy() == data.test_y).mean())
    return teacher, accuracy


class OutputLoss:
    """Base of the output-path losses: __call__(student_logits, teacher_logits) -> scalar."""

    temperature: float

    def __call__(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class OutputKL(OutputLoss):
    """Forward KL(p_teacher || p_student) at a temperature, times T^2 (Hinton's scaling)."""

    temperature: float = 4.0

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, not {self.temperature}")

    def __call__(self, student, teacher):
        t = self.temperature
        return forward_kl(F.log_softmax(teacher / t, dim=1), F.log_softmax(student / t, dim=1)).mean() * t * t


@dataclass(frozen=True, kw_only=True)
class HeadTailAwareKL(OutputLoss):
    """HTA-KL. The teacher's classes, sorted by probability, are split where their cumulative
    probability reaches `head_mass`: the head (the classes up to and including that one) and the
    tail (the rest). Forward KL pulls the student onto the teacher's likely classes; reverse KL
    penalises the student for mass the teacher does not give, which is where the tail is matched.
    Per image they are mixed by how misaligned each region is (the student's total absolute
    probability error on the head and on the tail, normalised, without gradient), so a tail the
    student gets wrong is not drowned by the head: loss = T^2 (w_head FKL + w_tail RKL)."""

    temperature: float = 4.0
    head_mass: float = 0.9

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, not {self.temperature}")
        if not 0 < self.head_mass < 1:
            raise ValueError(f"head_mass must be in (0, 1), not {self.head_mass}")

    def head_mask(self, teacher_probabilities: torch.Tensor) -> torch.Tensor:
        """(B, C) bool: the classes in the teacher's head."""
        ordered, order = teacher_probabilities.sort(dim=1, descending=True)
        before = ordered.cumsum(dim=1) - ordered  # mass of the classes ranked above each one
        in_head = before < self.head_mass
        return torch.zeros_like(in_head).scatter(1, order, in_head)

    def __call__(self, student, teacher):
        t = self.temperature
        log_p_teacher, log_p_student = F.log_softmax(teacher / t, dim=1), F.log_softmax(student / t, dim=1)
        with torch.no_grad():
            head = self.head_mask(log_p_teacher.exp())
            error = (log_p_teacher.exp() - log_p_student.exp()).abs()
            head_error, tail_error = (error * head).sum(dim=1), (error * ~head).sum(dim=1)
            w_head = head_error / (head_error + tail_error).clamp(min=1e-12)
        fkl = forward_kl(log_p_teacher, log_p_student)
        rkl = forward_kl(log_p_student, log_p_teacher)
        return (w_head * fkl + (1 - w_head) * rkl).mean() * t * t


def forward_kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row, from log-probabilities."""
    return (log_p.exp() * (log_p - log_q)).sum(dim=1)


@dataclass(frozen=True, kw_only=True)
class DistillationConfig:
    output_loss: OutputLoss = field(default_factory=HeadTailAwareKL)
    output_weight: float = 0.5   # share of the KD term against the labels' cross-entropy
    hidden_weight: float = 0.1   # weight of the intermediate (spike decoder) path; 0 turns it off
    teacher_hidden: tuple[int, ...] = (512,)
    teacher_epochs: int = 5

    def __post_init__(self) -> None:
        if not isinstance(self.output_loss, OutputLoss):
            raise TypeError(f"output_loss must be an OutputLoss object (OutputKL(), HeadTailAwareKL()), "
                            f"not {self.output_loss!r}")
        if not 0 <= self.output_weight <= 1:
            raise ValueError(f"output_weight must be in [0, 1], not {self.output_weight}")
        if self.hidden_weight < 0:
            raise ValueError(f"hidden_weight must be >= 0, not {self.hidden_weight}")
        if not isinstance(self.teacher_epochs, int) or self.teacher_epochs < 1:
            raise ValueError(f"teacher_epochs must be a positive int, not {self.teacher_epochs!r}")


class Distiller(nn.Module):
    """The frozen teacher, the loss settings and the spike decoder (trained with the student). The
    decoder reads the student's first fully connected hidden layer: the layer after its convolutions
    (no decoder when hidden_weight is 0)."""

    def __init__(self, *, teacher: ANNTeacher, config: DistillationConfig, student: SNNConfig):
        super().__init__()
        if config.hidden_weight and len(student.sizes) < 3:
            raise ValueError(f"distillation's hidden path needs a fully connected hidden layer in the student, "
                             f"whose sizes are {student.sizes!r}: add one, or set hidden_weight=0")
        self.teacher = teacher
        self.config = config
        self.student_layer = len(student.convolutions)
        # Without the hidden path there is nothing to decode (and maybe no hidden layer to read).
        self.decoder = nn.Linear(student.sizes[1], teacher.layers[0].out_features) if config.hidden_weight else None

    def loss(self, *, x: torch.Tensor, labels: torch.Tensor, student_logits: torch.Tensor,
             student_hidden_spikes: torch.Tensor) -> torch.Tensor:
        """x: the batch's intensities (B, n); student_hidden_spikes: (B, T, n_hidden), with gradient."""
        cfg = self.config
        with torch.no_grad():
            teacher_logits, teacher_hidden = self.teacher(x)
        loss = (1 - cfg.output_weight) * F.cross_entropy(student_logits, labels)
        loss = loss + cfg.output_weight * cfg.output_loss(student_logits, teacher_logits)
        if cfg.hidden_weight:
            decoded = self.decoder(student_hidden_spikes.mean(dim=1))
            loss = loss + cfg.hidden_weight * F.mse_loss(decoded, teacher_hidden)
        return loss

