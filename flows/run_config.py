"""Everything a `spikefab run` needs, as one frozen, validated configuration; each step receives the
part it depends on, so changing, say, the lanes redoes the hardware steps but not the training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from model.architecture import CoreArchitecture, RateEncoder
from model.compiled import MAX_TIMESTEPS, Integration, Readout, Reset
from model.convolution import ConvShape
from model.augmentation import RandomShift
from model.datasets import DATASETS, EVENT_DATASETS
from model.event_datasets import NMNIST_CHANNELS, NMNIST_INPUTS, NMNIST_SIDE
from model.input_codes import EventFrames, InputCode, RateCode
from model.distillation import DistillationConfig
from model.network import SNNConfig
from model.quantize import QuantizationConfig
from model.surrogate import FastSigmoid, Surrogate
from model.train import Backprop, TrainConfig, check_trainable, training_device
from sim.rtl_run import available_cores, choose_simulator

from flows.eda.liberty_library import CellLibrary
from flows.engine.step import Step
from flows.steps.calibrate_exit import CalibrateExitStep, ExitCalibrationConfig
from flows.steps.compile import CompileStep
from flows.steps.encode import DataConfig, EncodeStep
from flows.steps.import_nir import ImportNirStep, ImportStepConfig, NirSource
from flows.steps.power import PowerStep, PowerStepConfig, check_gate_simulator
from flows.steps.quantize import QuantizeStep, QuantizeStepConfig
from flows.steps.reference import ReferenceStep
from flows.steps.synth import LibraryConfig, SynthStep, SynthStepConfig
from flows.steps.timing import TimingStep
from flows.steps.train import TrainStep, TrainStepConfig
from flows.steps.verify import VerifyStep, VerifyStepConfig

DATASET_INPUTS = {"digits": 64, "mnist": 784, "fashion_mnist": 784, "nmnist": NMNIST_INPUTS}
DATASET_CLASSES = 10
IMAGE_SIDES = {"digits": 8, "mnist": 28, "fashion_mnist": 28}  # square images: RandomShift's side
# (channels, height, width) of each data set's inputs, in the channel-last order a convolution takes.
DATASET_IMAGES = {**{name: (1, side, side) for name, side in IMAGE_SIDES.items()},
                  "nmnist": (NMNIST_CHANNELS, NMNIST_SIDE, NMNIST_SIDE)}
# The network settings an imported (NIR) network still takes; the graph sets the others.
IMPORTED_NETWORK_OPTIONS = ("timesteps", "input_code", "surrogate")


def _positive_or_all(name: str, value) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{name} must be a positive int or None (all), not {value!r}")


@dataclass(frozen=True, kw_only=True)
class DataSettings:
    """Which data set, where it is, and which of its test images the run uses."""

    dataset: str = "digits"
    data_path: str | None = None
    test_images: int | None = None      # None: the whole test set for the reference
    encoding_seed: int = 1              # the host's draws of the test set's events

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {self.dataset!r}")
        if self.dataset == "digits" and self.data_path is not None:
            raise ValueError("digits ship inside scikit-learn and read no files: leave out --data-path")
        _positive_or_all("test_images", self.test_images)


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """The network to train: convolutions (first, on the data set's image), fully connected hidden
    layers, timesteps, the neurons, and how intensities become events."""

    hidden: tuple[int, ...] = (64,)
    convolutions: tuple[ConvShape, ...] = ()
    timesteps: int = 8
    leak_shift: int | None = 3
    integration: Integration = Integration.CONTINUOUS
    reset: Reset = Reset.SUBTRACT
    readout: Readout = Readout.MEMBRANE
    surrogate: Surrogate = field(default_factory=FastSigmoid)
    dual_adaptive: bool = False         # DA-LIF hidden neurons (learnable decay and input scale)
    batch_norm: bool = False            # per-channel batch normalisation in float training, folded for export
    input_code: InputCode = field(default_factory=RateCode)  # how intensities become events (not for event data)

    def __post_init__(self) -> None:
        if not all(isinstance(n, int) and n >= 1 for n in self.hidden):
            raise ValueError(f"hidden sizes must be positive ints, not {self.hidden!r}")
        if not all(isinstance(c, ConvShape) for c in self.convolutions):
            raise TypeError(f"convolutions must be ConvShape objects, not {self.convolutions!r}")
        # Checked before any step: the core counts at most MAX_TIMESTEPS, and encoding more would
        # first spend minutes and gigabytes on spikes no core can take.
        if not isinstance(self.timesteps, int) or not 1 <= self.timesteps <= MAX_TIMESTEPS:
            raise ValueError(f"timesteps must be 1..{MAX_TIMESTEPS} (the core's timestep counter), "
                             f"not {self.timesteps!r}")
        if not isinstance(self.input_code, InputCode):
            raise TypeError(f"input_code must be an InputCode object (RateCode(), ...), not {self.input_code!r}")
        if not self.input_code.sends_spikes:
            raise ValueError(f"{type(self.input_code).__name__} is not spikes: the core takes events")


@dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """How the float network is trained."""

    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    backprop: Backprop = Backprop.THROUGH_TIME  # or through the spike rates (memory constant in T)
    shift_pixels: int = 0               # training images moved at random by up to this many pixels
    mirror: bool = False                # and flipped left-right at random (mirror-symmetric classes)
    distillation: DistillationConfig | None = None  # from an ANN teacher (output and hidden paths)
    device: str = "cpu"                 # auto, cpu or cuda; auto is resolved on the machine that runs
    processes: int = 1                  # data-parallel training processes (torch.distributed)

    def __post_init__(self) -> None:
        self.train_config(epochs=self.epochs, learning_rate=self.learning_rate)  # one set of checks
        if self.distillation is not None and not isinstance(self.distillation, DistillationConfig):
            raise TypeError(f"distillation must be a DistillationConfig or None, not {self.distillation!r}")
        if not isinstance(self.shift_pixels, int) or isinstance(self.shift_pixels, bool) or self.shift_pixels < 0:
            raise ValueError(f"shift_pixels must be an int >= 0, not {self.shift_pixels!r}")

    def train_config(self, *, epochs: int, learning_rate: float, **more) -> TrainConfig:
        """The train step's (or QAT's) config, on this machine's device."""
        return TrainConfig(epochs=epochs, batch_size=self.batch_size, learning_rate=learning_rate,
                           backprop=self.backprop, device=training_device(self.device), processes=self.processes,
                           **more)


@dataclass(frozen=True, kw_only=True)
class QuantizationSettings:
    """The integer network: weight width and the quantization-aware fine-tuning after training."""

    weight_bits: int = 8
    qat_epochs: int = 10                # 0: export the post-training quantized network
    qat_learning_rate: float = 5e-4

    def __post_init__(self) -> None:
        QuantizationConfig(weight_bits=self.weight_bits)  # validates the width
        if not isinstance(self.qat_epochs, int) or self.qat_epochs < 0:
            raise ValueError(f"qat_epochs must be an int >= 0 (0: export the post-training quantized network), "
                             f"not {self.qat_epochs!r}")

    def config(self) -> QuantizationConfig:
        return QuantizationConfig(weight_bits=self.weight_bits)


@dataclass(frozen=True, kw_only=True)
class EarlyExitSettings:
    """SEENN-I early exit, calibrated on held-out training images."""

    tolerance: float = 0.003            # accuracy the exit may cost on them (0.003 = 0.3 points)

    def __post_init__(self) -> None:
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"exit_tolerance must be in [0, 1), not {self.tolerance}")


@dataclass(frozen=True, kw_only=True)
class VerificationSettings:
    """How much of the test set goes through the RTL and the gate-level netlist, and on what."""

    verify_images: int | None = 100     # None: every test image through the RTL
    energy_images: int = 32             # inferences simulated at gate level (the energy's sample size)
    simulator: str = "auto"
    simulator_processes: int | None = None  # None: one per available core
    gate_simulator: str = "compiled"    # flows/steps/power.py GATE_SIMULATORS

    def __post_init__(self) -> None:
        _positive_or_all("verify_images", self.verify_images)
        if not isinstance(self.energy_images, int) or isinstance(self.energy_images, bool) or self.energy_images < 1:
            raise ValueError(f"energy_images must be a positive int, not {self.energy_images!r}")
        choose_simulator(self.simulator, 0)  # validates the name
        check_gate_simulator(self.gate_simulator, field="gate_simulator")
        if self.simulator_processes is not None and (
                not isinstance(self.simulator_processes, int) or self.simulator_processes < 1):
            raise ValueError(f"simulator_processes must be a positive int or None (one per core), "
                             f"not {self.simulator_processes!r}")


# The parts of a run, each the settings of the steps that use it: {field: its class}.
PARTS = {"data": DataSettings, "network": NetworkSettings, "training": TrainingSettings,
         "quantization": QuantizationSettings, "verification": VerificationSettings}


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """A run, composed of its parts; the CLI's defaults are these classes' defaults."""

    data: DataSettings = field(default_factory=DataSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    quantization: QuantizationSettings = field(default_factory=QuantizationSettings)
    early_exit: EarlyExitSettings | None = None  # None: every inference runs all timesteps
    # The core (lanes, on-chip encoder, memory style); the steps add or leave out the trace port.
    architecture: CoreArchitecture = field(default_factory=lambda: CoreArchitecture(trace=False))
    library: LibraryConfig = field(default_factory=lambda: LibraryConfig(library=CellLibrary.OSU018))
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    seed: int = 0                       # weights' initialization and batches; the simulator's host timing
    # A network trained elsewhere, as a NIR graph: imported in place of training (network settings
    # other than timesteps, input code and surrogate then come from the graph).
    nir: NirSource | None = None

    def __post_init__(self) -> None:
        for name, cls in PARTS.items():
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"{name} must be a {cls.__name__}, not {getattr(self, name)!r}")
        if self.early_exit is not None and not isinstance(self.early_exit, EarlyExitSettings):
            raise TypeError(f"early_exit must be an EarlyExitSettings or None, not {self.early_exit!r}")
        if not isinstance(self.architecture, CoreArchitecture):
            raise TypeError(f"architecture must be a CoreArchitecture, not {self.architecture!r}")
        if not isinstance(self.library, LibraryConfig):
            raise TypeError(f"library must be a LibraryConfig, not {self.library!r}")
        # The trace port is the verification's business, not the run's: one key for both.
        object.__setattr__(self, "architecture", dataclasses.replace(self.architecture, trace=False))
        dataset, network = self.data.dataset, self.network
        if dataset in EVENT_DATASETS and self.encoder is not None:
            raise ValueError(f"{dataset} is event data, already spikes: the on-chip rate encoder does not apply")
        if (self.training.shift_pixels or self.training.mirror) and dataset not in IMAGE_SIDES:
            raise ValueError(f"{dataset} is not made of square images: it cannot be shifted")
        self.augmentation()  # validates the shift
        if self.encoder is not None and not isinstance(network.input_code, RateCode):
            raise ValueError("the on-chip encoder draws a rate code: use the rate input code with it")
        if self.early_exit is not None and network.timesteps < 2:
            raise ValueError("early exit needs at least two timesteps")
        if self.nir is not None:
            self._check_imported()
        if not network.hidden and self.training.distillation is not None and self.training.distillation.hidden_weight:
            raise ValueError("distillation's hidden-layer path decodes the first fully connected hidden layer (the "
                             "one after any convolutions), and this network has none: give it one (--hidden) or set "
                             "the hidden path's weight to 0 (DistillationConfig(hidden_weight=0))")
        snn = self.snn()  # validates the network settings against the data set
        if self.nir is None:  # an imported network is not trained here
            t = self.training
            check_trainable(snn, t.train_config(epochs=t.epochs, learning_rate=t.learning_rate))

    def _check_imported(self) -> None:
        if not isinstance(self.nir, NirSource):
            raise TypeError(f"nir must be a NirSource or None, not {self.nir!r}")
        default = NetworkSettings()
        changed = [f.name for f in dataclasses.fields(NetworkSettings) if f.name not in IMPORTED_NETWORK_OPTIONS
                   and getattr(self.network, f.name) != getattr(default, f.name)]
        if changed:
            raise ValueError(f"{', '.join(changed)} do not apply to an imported network: the NIR graph sets them "
                             f"(leave those options out)")
        if self.training.distillation is not None:
            raise ValueError("distillation trains a network; an imported one is not trained here: leave it out")
        imported = self.nir.imported()
        if imported.image is not None and imported.image != DATASET_IMAGES[self.data.dataset]:
            raise ValueError(f"the NIR graph's first convolution takes (channels, height, width) {imported.image}; "
                             f"{self.data.dataset} has {DATASET_IMAGES[self.data.dataset]}: give the data set it was "
                             f"trained on")
        sizes = imported.sizes
        expected = DATASET_INPUTS[self.data.dataset]
        if sizes[0] != expected or sizes[-1] != DATASET_CLASSES:
            raise ValueError(f"the NIR graph takes {sizes[0]} inputs and gives {sizes[-1]} outputs; {self.data.dataset} "
                             f"has {expected} inputs and {DATASET_CLASSES} classes: give the data set it was trained on")

    def augmentation(self) -> RandomShift | None:
        if not (self.training.shift_pixels or self.training.mirror):
            return None
        return RandomShift(side=IMAGE_SIDES[self.data.dataset], pixels=self.training.shift_pixels,
                           mirror=self.training.mirror)

    def code(self) -> InputCode:
        """What the network is fed: event data's frames as they are, else input_code's events."""
        return EventFrames() if self.data.dataset in EVENT_DATASETS else self.network.input_code

    @property
    def encoder(self) -> RateEncoder | None:
        return self.architecture.encoder

    @property
    def sizes(self) -> tuple[int, ...]:
        if self.nir is not None:
            return self.nir.imported().sizes
        return (DATASET_INPUTS[self.data.dataset], *self.network.hidden, DATASET_CLASSES)

    def snn(self) -> SNNConfig:
        n = self.network
        if self.nir is not None:
            return self.nir.snn(timesteps=n.timesteps, surrogate=n.surrogate)
        return SNNConfig(sizes=self.sizes, timesteps=n.timesteps, leak_shift=n.leak_shift, integration=n.integration,
                         reset=n.reset, readout=n.readout, surrogate=n.surrogate, dual_adaptive=n.dual_adaptive,
                         batch_norm=n.batch_norm,
                         image=DATASET_IMAGES[self.data.dataset] if n.convolutions else None,
                         convolutions=n.convolutions)

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
        v, test_images = self.verification, self.data.test_images
        if v.simulator != "auto" or v.verify_images is None:
            return v.simulator
        images = v.verify_images if test_images is None else min(v.verify_images, test_images)
        return choose_simulator("auto", images)

    def _all_steps(self) -> list[Step]:
        d, t, q, v = self.data, self.training, self.quantization, self.verification
        data = DataConfig(dataset=d.dataset, data_path=d.data_path, timesteps=self.network.timesteps,
                          encoding_seed=d.encoding_seed, test_images=d.test_images,
                          hold_out=self.early_exit is not None, input_code=self.code())
        # The on-chip encoder is hardware: no step before calibrate-exit and the reference sees it, so
        # adding or changing it keeps the encoded test set, the training and the quantization.
        train = TrainStepConfig(data=data, snn=self.snn(), distillation=t.distillation, training=t.train_config(
            epochs=t.epochs, learning_rate=t.learning_rate, seed=self.seed, input_code=self.code(),
            augmentation=self.augmentation()))
        quantize = QuantizeStepConfig(train=train, quantization=q.config(),
                                      qat=None if q.qat_epochs == 0 else t.train_config(
                                          epochs=q.qat_epochs, learning_rate=q.qat_learning_rate, seed=self.seed + 1,
                                          input_code=self.code(), augmentation=self.augmentation()))
        core, library = self.architecture, self.library
        calibrate = [CalibrateExitStep(ExitCalibrationConfig(data=data, encoder=self.encoder,
                                                             tolerance=self.early_exit.tolerance))
                     ] if self.early_exit is not None else []
        source = (ImportNirStep(ImportStepConfig(source=self.nir, snn=train.snn)) if self.nir is not None
                  else TrainStep(train))
        return [
            EncodeStep(data),
            source,
            QuantizeStep(quantize),
            *calibrate,
            # The reference's cycles do not depend on how the memories are built, so it is shared by both.
            ReferenceStep(core.cycle_relevant()),
            CompileStep(core),
            VerifyStep(VerifyStepConfig(architecture=core, simulator=self._simulator(), images=v.verify_images,
                                        seed=self.seed, processes=v.simulator_processes or available_cores())),
            SynthStep(SynthStepConfig(architecture=core, library=library)),
            TimingStep(library),
            PowerStep(PowerStepConfig(architecture=core, library=library.library, images=v.energy_images,
                                       simulator=v.gate_simulator)),
        ]
