"""Published digital SNN chips, as context beside our figures: measured silicon at their own nodes and
supplies, as their papers (or ../shared/SEEDS.md's summaries of them) give them. Compare them with our
figures scaled to a similar node (estimated), never with our 180 nm ones, and never as a ranking:
theirs are silicon, ours a gate-level simulation plus the SRAM macro model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class PublishedMnistChip:
    """An MNIST operating point: accuracy, and energy per inference (a range when the paper gives one)."""

    name: str
    accuracy: float
    nj_low: float
    nj_high: float
    node: str  # as published; "" where our sources do not say


MNIST_CHIPS = (
    PublishedMnistChip(name="SPOON", accuracy=0.975, nj_low=313.0, nj_high=313.0, node="28 nm"),
    PublishedMnistChip(name="Park et al.", accuracy=0.981, nj_low=253.0, nj_high=253.0, node=""),
    # The seed paper's chip: ">98%" at 48.4-773 nJ per image, 40 nm in its arXiv text (SEEDS.md).
    PublishedMnistChip(name="seed chip", accuracy=0.98, nj_low=48.4, nj_high=773.0, node="40 nm"),
)

# Energy per synaptic operation (pJ/SOP) of silicon SNN cores (SEEDS.md), 28 nm where stated there.
PJ_PER_SOP = {"ODIN (28 nm)": 12.7, "ReckOn (28 nm)": 5.3, "TrueNorth": 2.5}
