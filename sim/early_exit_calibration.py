"""SEENN-I early exit, calibrated on held-out data in the integer form the core runs.

SEENN-I stops an inference after step t once the softmax of the outputs accumulated over steps 1..t
is confident enough. The core's rule (../shared/DESIGN.md) is its integer form: stop after step
t >= min_steps once top1 - top2 of the readout >= margin. With tau readout units per logit, a margin
d guarantees a top probability of at least 1 / (1 + (C - 1) exp(-d / tau)), so a float confidence
threshold p maps to d = tau ln((C - 1) p / (1 - p)).

The calibration runs the reference once at full T on held-out images, reads every image's readout
after every step, and evaluates every (min_steps, margin) pair on it: an image exits at the first
step t >= min_steps whose margin reaches the threshold, and is classified by that step's readout
(exactly what the reference and the RTL do with the rule). It keeps the pair with the fewest
average timesteps whose held-out accuracy is within `tolerance` of full T.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from model.compiled import CompiledNetwork, EarlyExit, Readout

from .reference import ref_run, top_two

# Margins tried: every distinct held-out margin would do, these quantiles of them are enough.
MARGIN_QUANTILES = np.linspace(0.0, 1.0, 201)


@dataclass(frozen=True)
class ExitPoint:
    min_steps: int
    margin: int
    avg_timesteps: float
    accuracy: float


@dataclass(frozen=True, eq=False)
class ExitCalibration:
    rule: EarlyExit
    chosen: ExitPoint
    full_accuracy: float          # held out, at full T
    tolerance: float
    curve: tuple[ExitPoint, ...]  # the lowest average timesteps for each accuracy reached (the front)
    readout_units_per_logit: float
    classes: int

    @property
    def confidence(self) -> float:
        """The SEENN-I confidence threshold the chosen margin guarantees."""
        return confidence_of_margin(self.rule.margin, self.readout_units_per_logit, self.classes)


def readout_units_per_logit(net: CompiledNetwork) -> float:
    """tau: a spike-count readout counts logits in spikes; a membrane readout in the integer units of
    the output layer, whose threshold is the float threshold 1 of training (one logit unit)."""
    return 1.0 if net.readout is Readout.SPIKE_COUNT else float(net.layers[-1].threshold)


def confidence_of_margin(margin: float, tau: float, classes: int) -> float:
    return 1.0 / (1.0 + (classes - 1) * math.exp(-margin / tau))


def margin_for_confidence(confidence: float, tau: float, classes: int) -> int:
    """The smallest integer margin that guarantees `confidence` (0 < confidence < 1)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    return max(1, math.ceil(tau * math.log((classes - 1) * confidence / (1 - confidence))))


def step_decisions(readout_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, top1 - top2) after every step, (B, T) each, by the reference's own rule."""
    batch, steps, classes = readout_steps.shape
    predicted, top1, top2 = top_two(readout_steps.reshape(batch * steps, classes))
    return predicted.reshape(batch, steps), (top1 - top2).reshape(batch, steps)


def exit_points(readout_steps: np.ndarray, labels: np.ndarray, margins: np.ndarray) -> list[ExitPoint]:
    """Average timesteps and accuracy of every (min_steps, margin) rule on per-step readouts (B, T, C)."""
    batch, steps, _ = readout_steps.shape
    predicted, gap = step_decisions(readout_steps)
    correct = predicted == labels[:, None]
    points = []
    rows = np.arange(batch)
    for min_steps in range(1, steps + 1):
        eligible = np.arange(steps) + 1 >= min_steps
        for margin in margins:
            stops = (gap >= margin) & eligible
            stops[:, -1] = True  # every image ends at T
            exit_index = stops.argmax(axis=1)
            points.append(ExitPoint(min_steps=min_steps, margin=int(margin),
                                    avg_timesteps=float((exit_index + 1).mean()),
                                    accuracy=float(correct[rows, exit_index].mean())))
    return points


def pareto_front(points: list[ExitPoint]) -> tuple[ExitPoint, ...]:
    """The points no other point beats on both fewer timesteps and higher accuracy, by timesteps."""
    front, best = [], -1.0
    for point in sorted(points, key=lambda p: (p.avg_timesteps, -p.accuracy)):
        if point.accuracy > best:
            front.append(point)
            best = point.accuracy
    return tuple(front)


def calibrate_early_exit(net: CompiledNetwork, spikes: np.ndarray, labels: np.ndarray, *,
                         tolerance: float = 0.003) -> ExitCalibration:
    """The (min_steps, margin) rule with the fewest average timesteps on these held-out spike frames
    whose accuracy is at least the full-T accuracy minus `tolerance` (0.003 = 0.3 points)."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), not {tolerance}")
    if net.timesteps < 2:
        raise ValueError("early exit needs at least two timesteps")
    labels = np.asarray(labels)
    full_net = dataclasses.replace(net, early_exit=None)
    result = ref_run(full_net, spikes)
    full_accuracy = float((result.predicted == labels).mean())
    _, gaps = step_decisions(result.readout_steps)
    margins = np.unique(np.maximum(1, np.quantile(gaps, MARGIN_QUANTILES).round().astype(np.int64)))
    points = exit_points(result.readout_steps, labels, margins)
    admissible = [p for p in points if p.accuracy >= full_accuracy - tolerance - 1e-12]
    chosen = min(admissible, key=lambda p: (p.avg_timesteps, -p.accuracy, p.margin))
    return ExitCalibration(rule=EarlyExit(min_steps=chosen.min_steps, margin=chosen.margin), chosen=chosen,
                           full_accuracy=full_accuracy, tolerance=tolerance, curve=pareto_front(points),
                           readout_units_per_logit=readout_units_per_logit(net), classes=net.n_classes)
