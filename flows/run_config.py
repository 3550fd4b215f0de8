"""Everything a `spikefab run` needs, as one frozen, validated configuration; each step receives the
part it depends on, so changing, say, the lanes redoes the hardware steps but not the training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from model.architecture import CoreArchitecture, RateEncoder
from model.compiled import MAX_TIMESTEPS, Integration, Readout, Reset
from model.augmentation import RandomShift
from model.datasets import DATASETS, EVENT_DATASETS
from model.event_datasets import NMNIST_INPUTS
from model.input_codes import EventFrames, InputCode, RateCode
from model.distillation import DistillationConfig
from model.network import SNNConfig
from model.quantize import QuantizationConfig
from model.surrogate import FastSigmoid, Surrogate
from model.train import Backprop, TrainConfig
from sim.rtl_run import available_cores, choose_simulator

from flows.eda.liberty_library import CellLibrary
from flows.engine.step import Step
from flows.steps.calibrate_exit import CalibrateExitStep, ExitCalibrationConfig
from flows.steps.compile import CompileStep
from flows.steps.encode import DataConfig, EncodeStep
from flows.steps.power import PowerStep, PowerStepConfig
from flows.steps.quantize import QuantizeStep, QuantizeStepConfig
from flows.steps.reference import ReferenceStep
from flows.steps.synth import LibraryConfig, SynthStep, SynthStepConfig
from flows.steps.timing import TimingStep
from flows.steps.train import TrainStep, TrainStepConfig
from flows.steps.verify import VerifyStep, VerifyStepConfig

DATASET_INPUTS = {"digits": 64, "mnist": 784, "fashion_mnist": 784, "nmnist": NMNIST_INPUTS}
DATASET_CLASSES = 10
IMAGE_SIDES = {"digits": 8, "mnist": 28, "fashion_mnist": 28}  # square images: RandomShift's side


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    dataset: str = "digits"
    data_path: str | None = None
    hidden: tuple[int, ...] = (64,)
    timesteps: int = 8
    leak_shift: int | None = 3
    integration: Integration = Integration.CONTINUOUS
    reset: Reset = Reset.SUBTRACT
    readout: Readout = Readout.MEMBRANE
    surrogate: Surrogate = field(default_factory=FastSigmoid)
    dual_adaptive: bool = False         # DA-LIF hidden neurons (learnable decay and input scale)
    backprop: Backprop = Backprop.THROUGH_TIME  # or through the spike rates (memory constant in T)
    input_code: InputCode = field(default_factory=RateCode)  # how intensities become events (not for event data)
    shift_pixels: int = 0               # training images moved at random by up to this many pixels
    mirror: bool = False                # and flipped left-right at random (mirror-symmetric classes)
    distillation: DistillationConfig | None = None  # from an ANN teacher (output and hidden paths)
    epochs: int = 30
    qat_epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    qat_learning_rate: float = 5e-4
    weight_bits: int = 8
    # The core (lanes, on-chip encoder, memory style); the steps add or leave out the trace port.
    architecture: CoreArchitecture = field(default_factory=lambda: CoreArchitecture(trace=False))
    test_images: int | None = None      # None: the whole test set for the reference
    verify_images: int | None = 100     # None: every test image through the RTL
    energy_images: int = 4
    simulator: str = "auto"
    simulator_processes: int | None = None  # None: one per available core
    library: LibraryConfig = field(default_factory=lambda: LibraryConfig(library=CellLibrary.OSU018))
    seed: int = 0
    encoding_seed: int = 1
    early_exit: bool = False            # calibrate SEENN-I early exit on held-out training images
    exit_tolerance: float = 0.003       # accuracy the exit may cost on them (0.003 = 0.3 points)

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {self.dataset!r}")
        if self.dataset == "digits" and self.data_path is not None:
            raise ValueError("digits ship inside scikit-learn and read no files: leave out --data-path")
        if not all(isinstance(n, int) and n >= 1 for n in self.hidden):
            raise ValueError(f"hidden sizes must be positive ints, not {self.hidden!r}")
        if not isinstance(self.architecture, CoreArchitecture):
            raise TypeError(f"architecture must be a CoreArchitecture, not {self.architecture!r}")
        # The trace port is the verification's business, not the run's: one key for both.
        object.__setattr__(self, "architecture", dataclasses.replace(self.architecture, trace=False))
        for name in ("test_images", "verify_images"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None (all), not {value!r}")
        if not isinstance(self.qat_epochs, int) or self.qat_epochs < 0:
            raise ValueError(f"qat_epochs must be an int >= 0 (0: export the post-training quantized network), "
                             f"not {self.qat_epochs!r}")
        if not isinstance(self.energy_images, int) or self.energy_images < 1:
            raise ValueError(f"energy_images must be a positive int, not {self.energy_images!r}")
        choose_simulator(self.simulator, 0)  # validates the name
        if self.simulator_processes is not None and (
                not isinstance(self.simulator_processes, int) or self.simulator_processes < 1):
            raise ValueError(f"simulator_processes must be a positive int or None (one per core), "
                             f"not {self.simulator_processes!r}")
        if self.dataset in EVENT_DATASETS and self.encoder is not None:
            raise ValueError(f"{self.dataset} is event data, already spikes: the on-chip rate encoder does not apply")
        if (self.shift_pixels or self.mirror) and self.dataset not in IMAGE_SIDES:
            raise ValueError(f"{self.dataset} is not made of square images: it cannot be shifted")
        self.augmentation()  # validates the shift
        if self.backprop is Backprop.RATE and self.dual_adaptive:
            raise ValueError("rate-based backpropagation has no gradient for DA-LIF's decays: train DA-LIF with bptt")
        if not isinstance(self.input_code, InputCode):
            raise TypeError(f"input_code must be an InputCode object (RateCode(), ...), not {self.input_code!r}")
        if not self.input_code.sends_spikes:
            raise ValueError(f"{type(self.input_code).__name__} is not spikes: the core takes events")
        if self.encoder is not None and not isinstance(self.input_code, RateCode):
            raise ValueError("the on-chip encoder draws a rate code: use the rate input code with it")
        if not 0 <= self.exit_tolerance < 1:
            raise ValueError(f"exit_tolerance must be in [0, 1), not {self.exit_tolerance}")
        # Checked before any step: the core counts at most MAX_TIMESTEPS, and encoding more would
        # first spend minutes and gigabytes on spikes no core can take.
        if not isinstance(self.timesteps, int) or not 1 <= self.timesteps <= MAX_TIMESTEPS:
            raise ValueError(f"timesteps must be 1..{MAX_TIMESTEPS} (the core's timestep counter), "
                             f"not {self.timesteps!r}")
        if self.early_exit and self.timesteps < 2:
            raise ValueError("early exit needs at least two timesteps")
        if not isinstance(self.library, LibraryConfig):
            raise TypeError(f"library must be a LibraryConfig, not {self.library!r}")
        QuantizationConfig(weight_bits=self.weight_bits)  # validates the width
        self.snn()  # validates the network settings

    def augmentation(self) -> RandomShift | None:
        if not (self.shift_pixels or self.mirror):
            return None
        return RandomShift(side=IMAGE_SIDES[self.dataset], pixels=self.shift_pixels, mirror=self.mirror)

    def code(self) -> InputCode:
        """What the network is fed: event data's frames as they are, else input_code's events."""
        return EventFrames() if self.dataset in EVENT_DATASETS else self.input_code

    @property
    def encoder(self) -> RateEncoder | None:
        return self.architecture.encoder

    @property
    def sizes(self) -> tuple[int, ...]:
        return (DATASET_INPUTS[self.dataset], *self.hidden, DATASET_CLASSES)

    def snn(self) -> SNNConfig:
        return SNNConfig(sizes=self.sizes, timesteps=self.timesteps, leak_shift=self.leak_shift,
                         integration=self.integration, reset=self.reset, readout=self.readout,
                         surrogate=self.surrogate, dual_adaptive=self.dual_adaptive)

    def steps(self, *, until: str | None = None) -> list[Step]:
        """The flow's steps, or those up to and including `until`."""
        steps = self._all_steps()
        if until is None:
            return steps
        ids = [step.id for step in steps]
        if until not in ids:
            raise ValueError(f"--until must name a step ({', '.join(ids)}), not {until!r}")
        return steps[:ids.index(until) + 1]

    def _simulator(self) -> str:
        """The simulator `auto` stands for, when the image count is known now: asking for it by name
        then reuses the verification."""
        if self.simulator != "auto" or self.verify_images is None:
            return self.simulator
        images = self.verify_images if self.test_images is None else min(self.verify_images, self.test_images)
        return choose_simulator("auto", images)

    def _all_steps(self) -> list[Step]:
        data = DataConfig(dataset=self.dataset, data_path=self.data_path, timesteps=self.timesteps,
                          encoding_seed=self.encoding_seed, test_images=self.test_images,
                          hold_out=self.early_exit, input_code=self.code())
        # The on-chip encoder is hardware: no step before calibrate-exit and the reference sees it, so
        # adding or changing it keeps the encoded test set, the training and the quantization.
        train = TrainStepConfig(data=data, snn=self.snn(), distillation=self.distillation, training=TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate, seed=self.seed,
            backprop=self.backprop, input_code=self.code(), augmentation=self.augmentation()))
        quantize = QuantizeStepConfig(train=train, quantization=QuantizationConfig(weight_bits=self.weight_bits),
                                      qat=None if self.qat_epochs == 0 else TrainConfig(
                                          epochs=self.qat_epochs, batch_size=self.batch_size,
                                          learning_rate=self.qat_learning_rate, seed=self.seed + 1,
                                          backprop=self.backprop, input_code=self.code(),
                                          augmentation=self.augmentation()))
        core, library = self.architecture, self.library
        calibrate = [CalibrateExitStep(ExitCalibrationConfig(data=data, encoder=self.encoder,
                                                             tolerance=self.exit_tolerance))
                     ] if self.early_exit else []
        return [
            EncodeStep(data),
            TrainStep(train),
            QuantizeStep(quantize),
            *calibrate,
            # The reference's cycles do not depend on how the memories are built, so it is shared by both.
            ReferenceStep(core.cycle_relevant()),
            CompileStep(core),
            VerifyStep(VerifyStepConfig(architecture=core, simulator=self._simulator(), images=self.verify_images,
                                        seed=self.seed, processes=self.simulator_processes or available_cores())),
            SynthStep(SynthStepConfig(architecture=core, library=library)),
            TimingStep(library),
            PowerStep(PowerStepConfig(architecture=core, library=library.library, images=self.energy_images)),
        ]
