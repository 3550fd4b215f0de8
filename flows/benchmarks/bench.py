"""`make bench`: fresh runs of the benchmark configurations, their figures and each step's wall time,
written to <out>/results.json and <out>/results.md. Later benchmarks add their entries here."""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.architecture import CoreArchitecture, MemoryStyle
from model.atomic_file import write_atomically
from model.compiled import Integration
from model.convolution import ConvShape
from model.input_codes import RegularRateCode
from model.surrogate import ArcTan
from model.distillation import DistillationConfig, HeadTailAwareKL, OutputKL
from model.train import Backprop

from flows.engine.figures import Kind, shown
from flows.report.figure_paths import report_figure
from flows.report.published_chips import MNIST_CHIPS, PJ_PER_SOP
from flows.run_config import (DataSettings, EarlyExitSettings, NetworkSettings, QuantizationSettings, RunConfig,
                               TrainingSettings, VerificationSettings)
from flows.benchmarks.flow_benchmark import FlowBenchmark
from flows.benchmarks.framework_networks import NorseNetwork, SnnTorchNetwork, TrainingRecipe
from flows.benchmarks.nir_benchmark import NirBenchmark
from flows.benchmarks.regression import RegressionBenchmark
from flows.benchmarks.sweep_benchmark import SweepBenchmark
from flows.design_point import design_points
from flows.benchmarks.training import CONV_FRAMEWORKS, FRAMEWORKS, measure_backprop_in_process, measure_in_process


@dataclass(frozen=True)
class TrainingBenchmark:
    """Training throughput of the five trainers of flows/benchmarks/training.py (spikefab, snnTorch as
    its tutorial writes it, snnTorch and plain PyTorch doing the same work as spikefab, the same-shape
    ANN) at each thread count: `repeats` rounds, the trainers interleaved within a round so that the
    machine's other load falls on all of them alike; the median of the rounds, with their range."""

    epochs: int
    threads: tuple[int, ...] = (1, 2)
    repeats: int = 3
    backprop_timesteps: tuple[int, ...] = (4, 8, 16, 32)
    backprop_images: int = 12800

    def run(self, name: str, work: Path) -> tuple[dict, dict]:
        results = {f"{name}.repeats": self.repeats}
        for threads in self.threads:
            prefix = name if threads == 1 else f"{name}.threads{threads}"
            speed = interleaved_rounds(FRAMEWORKS, threads=threads, epochs=self.epochs, repeats=self.repeats,
                                       prefix=prefix, results=results)
            results.update({
                f"{prefix}.speedup_vs_snntorch_tutorial": round(speed["spikefab"] / speed["snntorch-tutorial"], 2),
                f"{prefix}.speedup_vs_snntorch_same_work": round(speed["spikefab"] / speed["snntorch-same-work"], 2),
                f"{prefix}.speedup_vs_pytorch_same_work": round(speed["spikefab"] / speed["pytorch-same-work"], 2),
                f"{prefix}.fraction_of_ann_throughput": round(speed["spikefab"] / speed["ann"], 2),
            })
        results[f"{name}.epochs"] = self.epochs
        for backprop in ("bptt", "rate"):
            for timesteps in self.backprop_timesteps:
                m = measure_backprop_in_process(backprop, timesteps=timesteps, images=self.backprop_images)
                prefix = f"{name}.backprop.{backprop}.t{timesteps}"
                results[f"{prefix}.images_per_s"] = round(m.images_per_s, 1)
                results[f"{prefix}.graph_mib"] = round(m.graph_mib, 2)
                results[f"{prefix}.peak_memory_growth_mib"] = round(m.training_memory_mib, 1)
        return results, {key: Kind.MEASURED.value for key in results}


def interleaved_rounds(frameworks: tuple[str, ...], *, threads: int, epochs: int, repeats: int, prefix: str,
                       results: dict) -> dict[str, float]:
    """`repeats` rounds of the trainers, interleaved within a round so that the machine's other load
    falls on all alike; their figures added to `results` (the median images/s with the rounds' range,
    accuracy and memory of the first round); the medians returned."""
    rounds = [{framework: measure_in_process(framework, threads=threads, epochs=epochs) for framework in frameworks}
              for _ in range(repeats)]
    speed = {framework: float(np.median([r[framework].images_per_s for r in rounds])) for framework in frameworks}
    for framework in frameworks:
        first = rounds[0][framework]
        each = [r[framework].images_per_s for r in rounds]
        results.update({
            f"{prefix}.{framework}.images_per_s": round(speed[framework], 1),
            f"{prefix}.{framework}.images_per_s_range": [round(min(each), 1), round(max(each), 1)],
            f"{prefix}.{framework}.accuracy": first.test_accuracy,
            f"{prefix}.{framework}.training_memory_mib": round(first.training_memory_mib, 1),
            f"{prefix}.{framework}.peak_rss_mib": round(first.peak_rss_mib, 1),
        })
    return speed


@dataclass(frozen=True, kw_only=True)
class ConvTrainingBenchmark:
    """spikefab against snnTorch doing the same work on the convolutional MNIST network
    (flows/benchmarks/training.py CONV_FRAMEWORKS), on 2 threads, interleaved rounds."""

    epochs: int
    threads: int = 2
    repeats: int = 3

    def run(self, name: str, work: Path) -> tuple[dict, dict]:
        results = {f"{name}.repeats": self.repeats, f"{name}.epochs": self.epochs, f"{name}.threads": self.threads}
        speed = interleaved_rounds(CONV_FRAMEWORKS, threads=self.threads, epochs=self.epochs, repeats=self.repeats,
                                   prefix=name, results=results)
        results[f"{name}.speedup_vs_snntorch_same_work"] = round(speed["spikefab-conv"] /
                                                                 speed["snntorch-conv-same-work"], 2)
        return results, {key: Kind.MEASURED.value for key in results}


MNIST = DataSettings(dataset="mnist")
EVERY_IMAGE_ON_VERILATOR = VerificationSettings(verify_images=None, simulator="verilator")

MNIST_ACCURACY = RunConfig(data=MNIST, network=NetworkSettings(hidden=(800,), timesteps=8),
                           training=TrainingSettings(epochs=25, batch_size=128, shift_pixels=2),
                           quantization=QuantizationSettings(qat_epochs=3), early_exit=EarlyExitSettings(),
                           architecture=CoreArchitecture(lanes=32), verification=EVERY_IMAGE_ON_VERILATOR)

# A network brought through NIR: post-training quantized to 8 bits, every test image through the RTL
# (Verilator), so that the RTL's accuracy and the framework's are on the same images; 64 lanes keep
# the 10,000 T=25 inferences to minutes (the cycles fall with the lanes; the results do not change).
NIR_MNIST = RunConfig(data=MNIST, quantization=QuantizationSettings(qat_epochs=0),
                      architecture=CoreArchitecture(lanes=64), verification=EVERY_IMAGE_ON_VERILATOR)

# The convolutional MNIST core: two stride-2 convolutions (16 then 32 channels, 5x5, padding 2: 28x28
# -> 14x14 -> 7x7), a dense 1568-128 layer and the 128-10 readout, T=8, 8-bit weights, the
# deterministic rate code, the arctan surrogate, training images shifted by up to a pixel. Pooling is
# folded into the stride (the core has no pooling unit to idle). 16 lanes: the first convolution's 16
# channels fill a word, the second's 32 take two. Every test image through the RTL (Verilator, ~44,000
# cycles each: minutes since the Verilator build keeps only the harness's signals public). Without the
# 128-neuron layer, 12 epochs fell just short of 99.2%.
MNIST_CONV = RunConfig(data=MNIST,
                       network=NetworkSettings(convolutions=(ConvShape(out_channels=16, kernel=5, stride=2, padding=2),
                                                             ConvShape(out_channels=32, kernel=5, stride=2, padding=2)),
                                               hidden=(128,), timesteps=8, input_code=RegularRateCode(), surrogate=ArcTan()),
                       training=TrainingSettings(epochs=15, batch_size=128, shift_pixels=1),
                       quantization=QuantizationSettings(qat_epochs=3), architecture=CoreArchitecture(lanes=16),
                       verification=EVERY_IMAGE_ON_VERILATOR)

FASHION_MNIST_CONV = RunConfig(
    data=DataSettings(dataset="fashion_mnist"),
    network=NetworkSettings(convolutions=(ConvShape(out_channels=32, kernel=5, stride=2, padding=2),
                                          ConvShape(out_channels=64, kernel=5, stride=2, padding=2)),
                            hidden=(128,), timesteps=8, input_code=RegularRateCode(), surrogate=ArcTan()),
    training=TrainingSettings(epochs=20, batch_size=128, shift_pixels=1, mirror=True),
    quantization=QuantizationSettings(qat_epochs=3), architecture=CoreArchitecture(lanes=32),
    verification=VerificationSettings(verify_images=1000, simulator="verilator"))

# The energy per inference an energy benchmark publishes under its own names (180 nm).
ENERGY_PER_INFERENCE = (
    ("nj_per_inference", report_figure(lambda r: r.energy.nj_per_inference)),
    ("nj_per_inference_ci95", report_figure(lambda r: r.energy.nj_per_inference_ci95)),
    ("images", report_figure(lambda r: r.energy.images)),
    ("pj_per_sop", report_figure(lambda r: r.energy.pj_per_sop)),
    ("logic_nj_per_inference", report_figure(lambda r: r.energy.logic_nj_per_inference)),
)

# The estimated 28 nm dynamic energy figures an energy benchmark publishes beside its 180 nm ones.
SCALED_28NM_ENERGY = (
    ("scaled_28nm.dynamic_nj_per_inference",
     report_figure(lambda r: r.scaled_estimate.nodes["28nm"].dynamic_nj_per_inference)),
    ("scaled_28nm.dynamic_pj_per_sop", report_figure(lambda r: r.scaled_estimate.nodes["28nm"].dynamic_pj_per_sop)),
)

# A convolutional core small enough to synthesize with its memories as flip-flops, so that a
# convolution's synthesis, timing and energy are measured in both memory styles: digits (1x8x8) ->
# conv 8, 3x3, stride 2, padding 1 (8x4x4) -> 32 -> 10, the demo's training otherwise; every test
# image through the RTL, 32 inferences at gate level.
DIGITS_CONV = RunConfig(network=NetworkSettings(convolutions=(ConvShape(out_channels=8, kernel=3, stride=2, padding=1),),
                                                hidden=(32,)),
                        verification=VerificationSettings(verify_images=None))

METHODS_BASE = RunConfig(data=MNIST, network=NetworkSettings(hidden=(256,), timesteps=8),
                         training=TrainingSettings(epochs=10, batch_size=128), quantization=QuantizationSettings(qat_epochs=2))

BENCHMARKS = {
    # The demo's configuration (make demo), with every test image through the RTL.
    "digits": FlowBenchmark(RunConfig(verification=VerificationSettings(verify_images=None))),
    "digits_conv": FlowBenchmark(DIGITS_CONV),
    "digits_conv_sram": FlowBenchmark(
        dataclasses.replace(DIGITS_CONV, architecture=CoreArchitecture(memories=MemoryStyle.SRAM_MACROS)),
        reuse="digits_conv"),
    # The MNIST core of the core issue: every test image through Verilator. Its 1.6 Mbit weight ROM
    # is not synthesized as flip-flops (that waits for SRAM macro models), so the flow stops at verify.
    "mnist": FlowBenchmark(RunConfig(data=MNIST, network=NetworkSettings(hidden=(256,)),
                                     training=TrainingSettings(epochs=15, batch_size=128),
                                     quantization=QuantizationSettings(qat_epochs=3),
                                     architecture=CoreArchitecture(lanes=16), verification=EVERY_IMAGE_ON_VERILATOR),
                           until="verify", core_figures=True),
    # The accuracy target of the training issue: 784-800-10, T=8, 8-bit weights, Bernoulli rate code,
    # training images shifted by up to 2 pixels; SEENN-I early exit calibrated on the 5,000 held-out
    # training images; every test image through the RTL (Verilator) with the exit rule.
    "mnist_accuracy": FlowBenchmark(
        MNIST_ACCURACY, until="verify",
        aliases={"mnist.accuracy_rtl_exact": report_figure(lambda r: r.early_exit.accuracy_full_timesteps),
                 "mnist.accuracy_rtl_verified_with_exit": report_figure(lambda r: r.accuracy.rtl),
                 "mnist.early_exit.avg_timesteps": report_figure(lambda r: r.early_exit.avg_timesteps),
                 "mnist.early_exit.accuracy": report_figure(lambda r: r.early_exit.accuracy)}),
    # The same float network quantized to 4-bit weights (its training steps are reused).
    "mnist_4bit": FlowBenchmark(
        dataclasses.replace(MNIST_ACCURACY, quantization=dataclasses.replace(MNIST_ACCURACY.quantization, weight_bits=4)),
        until="reference", reuse="mnist_accuracy",
        aliases={"mnist.weights4.accuracy_rtl_exact": report_figure(lambda r: r.early_exit.accuracy_full_timesteps),
                 "mnist.weights4.early_exit.avg_timesteps": report_figure(lambda r: r.early_exit.avg_timesteps),
                 "mnist.weights4.early_exit.accuracy": report_figure(lambda r: r.early_exit.accuracy)}),
    # The MNIST network of the training issue (784-800-10 with its early exit) as hardware at 1, 8 and
    # 32 lanes, its 5 Mbit of weights in SRAM macros: area, Fmax, energy per inference and per SOP,
    # and each step's time; its training steps are reused. 500 test images through the RTL (a lane
    # costs 130k cycles per image); 6 inferences at gate level (the same first test images at every
    # lane count, so the three compare image for image), their mean with a Student-t interval. The
    # figures in bench/results.json are from Icarus (before the compiled simulation); a re-run retrains
    # the 784-800-10 network first (its training code changed since), which is why 32 is not yet here.
    **{f"mnist_energy_lanes{lanes}": FlowBenchmark(
        dataclasses.replace(MNIST_ACCURACY,
                            verification=VerificationSettings(verify_images=500, energy_images=6, simulator="verilator"),
                            architecture=CoreArchitecture(lanes=lanes, memories=MemoryStyle.SRAM_MACROS)),
        reuse="mnist_accuracy",
        aliases={f"mnist.energy.lanes{lanes}.{key}": path for key, path in (
            *ENERGY_PER_INFERENCE,
            ("area_um2", report_figure(lambda r: r.area.total_um2)),
            ("logic_nj_per_inference_ci95", report_figure(lambda r: r.energy.logic_nj_per_inference_ci95)),
            ("logic_pj_per_sop", report_figure(lambda r: r.energy.logic_pj_per_sop)),
            ("logic_area_um2", report_figure(lambda r: r.area.logic_um2)),
            ("fmax_mhz", report_figure(lambda r: r.timing.fmax_mhz)),
            *SCALED_28NM_ENERGY,
            ("scaled_28nm.area_mm2", report_figure(lambda r: r.scaled_estimate.nodes["28nm"].area_mm2)))})
       for lanes in (32, 8, 1)},
    # The energy issue's design point: the 784-800-10 network of mnist_accuracy (8-bit weights, its
    # early exit) at 32 lanes, its memories SRAM macros, each weight memory banked in 8 KB macros (256
    # words of 256 bits: the smallest of the energy model's measured capacities, so no extrapolation),
    # input spikes in batches of 32 (each membrane word read and written once per batch) and the
    # update logic's operands isolated; 32 inferences at gate level, 1,000 test images through the RTL.
    # Beside it, its other steps reused, so that each means is measured on the same network and
    # inferences: without the spike batch; without operand isolation; and, without either (the
    # design before them, run before them: the hardware of these settings is unchanged), the
    # membranes in flip-flops (sram-weights: measured worse, every flip-flop clocked every cycle) and
    # every memory a macro, unbanked.
    **{name: FlowBenchmark(
        dataclasses.replace(MNIST_ACCURACY,
                            verification=VerificationSettings(verify_images=1000, energy_images=32, simulator="verilator"),
                            architecture=CoreArchitecture(lanes=32, memories=memories, weight_bank_words=bank_words,
                                                          spike_batch=batch, operand_isolation=isolation)),
        reuse=reuse,
        # The issue's key names for the 28 nm figures (the other energy.* figures are FIGURES').
        aliases={f"{name}.{key}": figure for key, figure in (
            ("accuracy_rtl_exact", report_figure(lambda r: r.early_exit.accuracy)),
            *((key.replace("dynamic_", ""), figure) for key, figure in SCALED_28NM_ENERGY),
            ("energy.breakdown", report_figure(lambda r: r.energy.breakdown)),
            ("energy.breakdown_nj_per_inference", report_figure(lambda r: r.energy.breakdown_nj_per_inference)))})
       for name, memories, bank_words, batch, isolation, reuse in (
           ("mnist_efficient", MemoryStyle.SRAM_MACROS, 256, 32, True, None),
           ("mnist_efficient_unbatched", MemoryStyle.SRAM_MACROS, 256, 1, True, "mnist_efficient"),
           ("mnist_efficient_unisolated", MemoryStyle.SRAM_MACROS, 256, 32, False, "mnist_efficient"),
           ("mnist_efficient_ff_membranes", MemoryStyle.SRAM_WEIGHTS, 256, 1, False, "mnist_efficient"),
           ("mnist_efficient_unbanked", MemoryStyle.SRAM_MACROS, None, 1, False, "mnist_efficient"))},
    # Fashion-MNIST under the same constraints: 784-1000-10, T=8, 8-bit weights, the deterministic
    # (regular) rate code, training images shifted by up to a pixel and mirrored, the arctan surrogate
    # (its wider gradient fits this under-fitting network better than the fast sigmoid), HTA-KL
    # distillation from a 784-1000-10 ANN teacher trained 20 epochs, 40 epochs, and the post-training
    # quantized network exported as it is (QAT without the teacher cost 0.6 points here); 1,000 test
    # images through the RTL (Verilator), the whole test set through the hardware-exact reference.
    "fashion_mnist": FlowBenchmark(
        RunConfig(data=DataSettings(dataset="fashion_mnist"),
                  network=NetworkSettings(hidden=(1000,), timesteps=8, input_code=RegularRateCode(), surrogate=ArcTan()),
                  training=TrainingSettings(epochs=40, batch_size=128, shift_pixels=1, mirror=True,
                                            distillation=DistillationConfig(teacher_hidden=(1000,), teacher_epochs=20)),
                  quantization=QuantizationSettings(qat_epochs=0), architecture=CoreArchitecture(lanes=32),
                  verification=VerificationSettings(verify_images=1000, simulator="verilator")), until="verify",
        aliases={"fashion_mnist.accuracy_rtl_exact": report_figure(lambda r: r.accuracy.quantized_reference),
                 "fashion_mnist.accuracy_rtl_verified_1000": report_figure(lambda r: r.accuracy.rtl)}),
    # N-MNIST subset, event frames straight into the core: the two integration modes of the seeds.
    **{f"nmnist_{mode.value}": FlowBenchmark(
        RunConfig(data=DataSettings(dataset="nmnist"), network=NetworkSettings(hidden=(256,), timesteps=8, integration=mode),
                  training=TrainingSettings(epochs=30, batch_size=32), quantization=QuantizationSettings(qat_epochs=3),
                  verification=EVERY_IMAGE_ON_VERILATOR), until="verify",
        aliases={f"nmnist.{mode.value}.accuracy_rtl": report_figure(lambda r: r.accuracy.rtl),
                 f"nmnist.{mode.value}.accuracy_float": report_figure(lambda r: r.accuracy.float_model)})
       for mode in Integration},
    "mnist_conv": FlowBenchmark(
        MNIST_CONV, until="verify",
        aliases={"mnist_conv.accuracy_rtl_exact": report_figure(lambda r: r.accuracy.quantized_reference)}),
    # The same core with its memories as SRAM macros (its 1.7 Mbit of weights cannot be synthesized as
    # logic): area, timing and the energy per inference from 32 inferences at gate level (the compiled
    # simulation), published under mnist_conv.energy.*; its training steps reused, 20 images through
    # the RTL (the macros' models and the engine's forwarding; every test image is mnist_conv's).
    "mnist_conv_sram": FlowBenchmark(
        dataclasses.replace(MNIST_CONV, verification=VerificationSettings(verify_images=20, energy_images=32,
                                                                          simulator="verilator"),
                            architecture=CoreArchitecture(lanes=16, memories=MemoryStyle.SRAM_MACROS)),
        reuse="mnist_conv",
        aliases={f"mnist_conv.{key}": figure for key, figure in (
            *((f"energy.{key}", figure) for key, figure in ENERGY_PER_INFERENCE),
            ("energy.sram_macro_nj_per_inference", report_figure(lambda r: r.energy.sram_macro_nj_per_inference)),
            *SCALED_28NM_ENERGY)}),
    # Fashion-MNIST on a convolutional core, on the MNIST core's terms (T=8, 8-bit weights, the
    # deterministic rate code, the hardware-exact reference on the whole test set): twice the channels
    # (32 then 64, 5x5, stride 2), the dense 3136-128 layer and the readout, training images shifted by
    # up to a pixel and mirrored (the classes are mirror-symmetric), 20 epochs and 3 of QAT; 32 lanes
    # (the first convolution's channels fill a word); 1,000 test images through the RTL (Verilator).
    # The issue's `fashion_mnist_conv.accuracy_rtl_exact` is fashion_mnist_conv_bn's: this network
    # with batch normalisation, the first to reach the 0.925 target.
    "fashion_mnist_conv": FlowBenchmark(FASHION_MNIST_CONV, until="verify"),
    # The same with 1.5 times the channels (48 then 96): does width buy accuracy? 16 epochs and 2 of QAT
    # keep its training to the 32/64 network's time on 2 cores.
    "fashion_mnist_conv_wide": FlowBenchmark(
        dataclasses.replace(
            FASHION_MNIST_CONV,
            network=dataclasses.replace(FASHION_MNIST_CONV.network, convolutions=(
                ConvShape(out_channels=48, kernel=5, stride=2, padding=2),
                ConvShape(out_channels=96, kernel=5, stride=2, padding=2))),
            training=dataclasses.replace(FASHION_MNIST_CONV.training, epochs=16),
            quantization=QuantizationSettings(qat_epochs=2)),
        until="verify"),
    # The same network and training with integrate-and-fire neurons (no leak): at T=8 a leak of V >> 3
    # a step forgets an eighth of the evidence each step, and a leak-free neuron with the subtracting
    # reset counts spikes as a quantized ReLU would (a two-epoch trial, not a bench entry, favoured it;
    # the full run did worse: README, Fashion-MNIST on a convolutional core).
    "fashion_mnist_conv_if": FlowBenchmark(
        dataclasses.replace(FASHION_MNIST_CONV,
                            network=dataclasses.replace(FASHION_MNIST_CONV.network, leak_shift=None)),
        until="verify"),
    # The same network and training with batch normalisation of each spiking layer's current in float
    # training, folded into the weights and biases for QAT and export (the core is unchanged): it
    # publishes the issue's Fashion-MNIST figure.
    "fashion_mnist_conv_bn": FlowBenchmark(
        dataclasses.replace(FASHION_MNIST_CONV,
                            network=dataclasses.replace(FASHION_MNIST_CONV.network, batch_norm=True)),
        until="verify",
        aliases={"fashion_mnist_conv.accuracy_rtl_exact": report_figure(lambda r: r.accuracy.quantized_reference)}),
    # The same with batch normalisation and a 512-neuron dense hidden layer (3-epoch trials, not bench
    # entries, put the two together ahead of either alone).
    "fashion_mnist_conv_bn_dense512": FlowBenchmark(
        dataclasses.replace(FASHION_MNIST_CONV,
                            network=dataclasses.replace(FASHION_MNIST_CONV.network, batch_norm=True, hidden=(512,))),
        until="verify"),
    # The same network and training, distilled (HTA-KL and the hidden path) from a ReLU teacher with its
    # two convolutions and a 512-unit dense layer, trained first for 30 epochs (12 s each) on the
    # student's shifted and mirrored batches: distillation is the one difference from fashion_mnist_conv.
    "fashion_mnist_conv_distilled": FlowBenchmark(
        dataclasses.replace(
            FASHION_MNIST_CONV,
            training=dataclasses.replace(FASHION_MNIST_CONV.training, distillation=DistillationConfig(
                teacher_hidden=(512,), teacher_epochs=30))),
        until="verify"),
    # N-MNIST subset with the MNIST core's convolutions on its 34x34 event frames (the polarities as
    # two channels): 2x34x34 -> 16x17x17 -> 32x9x9 -> 10, T=8, every test sample through the RTL.
    "nmnist_conv": FlowBenchmark(
        RunConfig(data=DataSettings(dataset="nmnist"),
                  network=NetworkSettings(convolutions=MNIST_CONV.network.convolutions, hidden=(), timesteps=8),
                  training=TrainingSettings(epochs=30, batch_size=32), quantization=QuantizationSettings(qat_epochs=3),
                  architecture=CoreArchitecture(lanes=16), verification=EVERY_IMAGE_ON_VERILATOR), until="verify",
        aliases={"nmnist_conv.accuracy_rtl": report_figure(lambda r: r.accuracy.rtl),
                 "nmnist_conv.accuracy_float": report_figure(lambda r: r.accuracy.float_model)}),
    # The training methods side by side on one MNIST network (784-256-10, T=8, 10 epochs, 8-bit):
    # accuracy in float, with DA-LIF's decays mapped to shifts, and of the hardware-exact reference.
    **{f"methods_{name}": FlowBenchmark(dataclasses.replace(
        METHODS_BASE, network=dataclasses.replace(METHODS_BASE.network, **network),
        training=dataclasses.replace(METHODS_BASE.training, **training)), until="reference")
       for name, network, training in (
           ("lif", {}, {}),
           ("da_lif", {"dual_adaptive": True}, {}),
           ("distill_kl", {}, {"distillation": DistillationConfig(output_loss=OutputKL())}),
           ("distill_hta_kl", {}, {"distillation": DistillationConfig(output_loss=HeadTailAwareKL())}),
           ("rate_backprop", {}, {"backprop": Backprop.RATE}),
       )},
    # Bring your own network: 784-256-10 trained in snnTorch 1.0 as its tutorial 5 writes it (Leaky,
    # beta 0.95, its default subtract reset, Adam at 5e-4, cross-entropy summed over the output
    # membranes of every step, T=25, batch 128, one epoch), fed the Bernoulli rate code rather than
    # the intensities as a current (the core takes events), written by snnTorch's NIR export and
    # imported with the subtract reset the export does not record.
    "nir_snntorch": NirBenchmark(
        network=lambda: SnnTorchNetwork(sizes=(784, 256, 10), beta=0.95, reset_to_zero=False),
        recipe=TrainingRecipe(timesteps=25, epochs=1, loss_on="membranes"), config=NIR_MNIST),
    # The same shape in Norse 1.1: LIFBoxCell layers at its default tau_mem_inv (a decay of 0.9 per
    # 1 ms step), reset to zero, cross-entropy on the output spike counts, the same code and steps.
    "nir_norse": NirBenchmark(
        network=lambda: NorseNetwork(sizes=(784, 256, 10)),
        recipe=TrainingRecipe(timesteps=25, epochs=1, learning_rate=2e-3), config=NIR_MNIST),
    # Training throughput, memory and accuracy after the same epochs, against snnTorch 1.0.
    "training": TrainingBenchmark(epochs=2),
    # The same on the convolutional MNIST network, one epoch per run.
    "training_conv": ConvTrainingBenchmark(epochs=1),
    # The energy issue's design-space search, on Dask distributed (a local cluster of 2 workers): MNIST
    # 784-128-10, T=8, early exit, SRAM macros with weight banks of 256 words, operand isolation; weight
    # bits 4 and 8 x lanes 8 and 32 x spike batch 1 and 32; the training shared by all points and the
    # quantization by each width; every point's accuracy on the whole test set, 200 test images through
    # the RTL, 32 at gate level.
    "sweep": SweepBenchmark(
        base=RunConfig(data=MNIST, network=NetworkSettings(hidden=(128,), timesteps=8),
                       training=TrainingSettings(epochs=10, batch_size=128, shift_pixels=1),
                       quantization=QuantizationSettings(qat_epochs=2), early_exit=EarlyExitSettings(),
                       architecture=CoreArchitecture(memories=MemoryStyle.SRAM_MACROS, operand_isolation=True),
                       verification=VerificationSettings(verify_images=200, energy_images=32, simulator="verilator")),
        points=tuple(design_points(timesteps=[8], weight_bits=[4, 8], lanes=[8, 32], memories=[MemoryStyle.SRAM_MACROS],
                                   weight_bank_words=[256], exit_tolerances=[EarlyExitSettings().tolerance],
                                   spike_batches=[1, 32]))),
    # The 1,000-seed randomized co-simulation of `make test-all`: random networks on the RTL against the
    # reference, the count and the failures.
    "regression": RegressionBenchmark(),
}
# Published chips beside the MNIST energy figures (../shared/SEEDS.md), as their papers give them:
# measured silicon at their own nodes; compare with the scaled_28nm figures, never the 180 nm ones.
PUBLISHED_CHIPS = {
    "published.odin.pj_per_sop_28nm": PJ_PER_SOP["ODIN (28 nm)"],
    **{f"published.{chip.name.lower().replace(' ', '_').replace('.', '')}.nj_per_image_mnist_{end}": value
       for chip in MNIST_CHIPS for end, value in (("min", chip.nj_low), ("max", chip.nj_high))},
}


KIND_SECTIONS = {
    Kind.MEASURED.value: ("Measured", "Counted on the test sets, simulated on the RTL or the mapped netlist, timed on "
                                      "this machine. Energy and area here are the logic's alone (`logic_*`)."),
    Kind.MODELLED.value: ("Modelled", "From stated models (the SRAM macro model of flows/energy/sram_macros.py, the "
                                      "cross-checks), and every total that adds the macros' modelled accesses or area "
                                      "to the logic's measured figures (energy `nj_per_inference`, `pj_per_sop`, "
                                      "`area.total_um2`; equal to the logic's with flip-flop memories)."),
    Kind.ESTIMATED.value: ("Estimated", "Scaled to other process nodes by the first-order rule of "
                                        "flows/energy/technology_scaling.py: a placement beside published chips, not a "
                                        "measurement."),
    Kind.SETTING.value: ("Settings", "What the benchmark configured or built, not figures."),
}
UNLABELLED = ("Not labelled", "Figures from a bench run made before figures carried their kind: re-run their benchmark.")


def markdown(results: dict, kinds: dict, machine: str) -> str:
    lines = ["# spikefab benchmarks", "", f"Machine: {machine}. Made by `make bench` (`python -m flows.benchmarks.bench`)."]
    for kind, (title, intro) in [*KIND_SECTIONS.items(), (None, UNLABELLED)]:
        keys = [k for k in results if kinds.get(k) == kind]
        if not keys:
            continue
        lines += ["", f"## {title}", "", intro, "", "| figure | value |", "| --- | --- |"]
        lines += [f"| {key} | {shown(results[key])} |" for key in keys]
    lines += ["", "## Published chips, for context only", "",
              "Measured silicon at their own nodes, as their papers give them; set them beside the estimated "
              "`scaled_28nm` figures, never beside the 180 nm ones.", "", "| figure | value |", "| --- | --- |"]
    lines += [f"| {key} | {value:g} |" for key, value in PUBLISHED_CHIPS.items()]
    return "\n".join(lines) + "\n"


def publish(out: Path, name: str, fresh: dict, fresh_kinds: dict, machine: str) -> tuple[dict, dict]:
    """One benchmark's figures into <out>/results.json and results.md, replacing the ones it wrote
    before and keeping every other benchmark's. The file is read again under a lock at each write, so
    benches run side by side (each with its own --only) add to it rather than overwrite each other."""
    results_path = out / "results.json"
    with open(out / "results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = json.loads(results_path.read_text()) if results_path.is_file() else {}
        results, owners = previous.get("results", {}), previous.get("owners", {})
        kinds = previous.get("kinds", {})
        # `owners` says which benchmark wrote each figure (aliases need not start with its name).
        results = {k: v for k, v in results.items() if owners.get(k, k.split(".")[0]) != name}
        results.update(fresh)
        kinds.update(fresh_kinds)
        owners.update({k: name for k in fresh})
        owners = {k: v for k, v in owners.items() if k in results}
        kinds = {k: v for k, v in kinds.items() if k in results}
        write_atomically(results_path, json.dumps({"machine": machine, "results": results, "kinds": kinds,
                                                   "owners": owners, "published": PUBLISHED_CHIPS}, indent=2).encode())
        write_atomically(out / "results.md", markdown(results, kinds, machine).encode())
    return results, kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.benchmarks.bench")
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), nargs="*")
    parser.add_argument("--resume", action="store_true",
                        help="flow benchmarks go on from the steps an interrupted bench finished in their run folders "
                             "(each step's time is the one measured when it ran); others run afresh")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.node()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    results, kinds = {}, {}
    for name, benchmark in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"benchmark {name} ...", file=sys.stderr, flush=True)
        if isinstance(benchmark, (FlowBenchmark, SweepBenchmark)):
            fresh, fresh_kinds = benchmark.run(name, args.out, resume=args.resume)
        else:
            fresh, fresh_kinds = benchmark.run(name, args.out)
        # Written after every benchmark, so a long bench that stops keeps what it measured, and the
        # table never lags the figures.
        results, kinds = publish(args.out, name, fresh, fresh_kinds, machine)
    print(markdown(results, kinds, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
