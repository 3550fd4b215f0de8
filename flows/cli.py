"""The spikefab command line: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from model.architecture import MemoryStyle
from model.compiled import CompiledNetwork, CompiledNetworkError, Encoding, Integration, Readout, Reset
from model.convolution import ConvShape
from model.datasets import DATASETS, EVENT_DATASETS, DatasetError, load_dataset
from model.distillation import DistillationConfig, HeadTailAwareKL, OutputKL
from model.input_codes import INPUT_CODES, EventFrames, InputCode, RateCode, code_for
from model.nir_export import from_nir, write_nir
from model.nir_import import FRAMEWORK_DT, NirConventions, read_graph
from model.surrogate import SURROGATES
from model.train import Backprop

from sim.rtl_run import AUTO_VERILATOR_IMAGES, SIMULATORS, available_cores

from flows.architecture_flags import add_architecture_flags, architecture_from
from flows.engine.run_lock import RunFolderLocked
from flows.engine.runner import StepRecord
from flows.engine.step import Artifact
from flows.engine.typed_json import to_jsonable
from flows.eda.liberty_library import CellLibrary, LibraryError
from flows.report.build import build_verify_report, run_and_report
from flows.report.render import summary, write_report
from flows.steps.power import GATE_SIMULATORS
from flows.design_point import design_points
from flows.sweep import run_sweep
from flows.sweep_tasks import LOCAL
from flows.run_config import (DataSettings, EarlyExitSettings, NetworkSettings, QuantizationSettings, RunConfig,
                               TrainingSettings, VerificationSettings)
from flows.steps.import_nir import NirSource
from flows.steps.synth import LibraryConfig
from flows.steps.verify import VerificationError, verify_network
from flows.steps.test_set import encode_test_set
from sim.tools import ToolError

DISTILLATION_LOSSES = {"kl": OutputKL, "hta-kl": HeadTailAwareKL}
# The run options' defaults are the dataclasses' own: each flag's default comes from the part of
# RunConfig it sets.
DATA, NETWORK, TRAINING = DataSettings(), NetworkSettings(), TrainingSettings()
QUANTIZATION, EXIT, VERIFICATION, RUN = QuantizationSettings(), EarlyExitSettings(), VerificationSettings(), RunConfig()
DEFAULT_TEACHER = DistillationConfig()
# Every step a run can have; an imported network's "import" stands where training would.
STEP_IDS = [step.id for step in RunConfig(early_exit=EarlyExitSettings()).steps()]
STEP_IDS.insert(STEP_IDS.index("train") + 1, "import")
EXIT_MISMATCH = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _images(text: str) -> int | None:
    if text == "all":
        return None
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number or 'all', not {text}")
    return value


def _name_of(value, registry: dict) -> str:
    """The CLI name of a default object (its class's entry in a name -> class registry)."""
    return next(name for name, cls in registry.items() if type(value) is cls)


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give the folder a name")
    return Path(text)


def _conv_shape(text: str) -> ConvShape:
    parts = text.split(":")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if not 2 <= len(numbers) <= 4:
        raise argparse.ArgumentTypeError(f"a convolution is CHANNELS:KERNEL[:STRIDE[:PADDING]] in integers, not {text!r}")
    return ConvShape(**dict(zip(("out_channels", "kernel", "stride", "padding"), numbers)))


def _leak(text: str) -> int | None:
    return None if text == "none" else int(text)


def _progress(number: int, total: int, step, record: StepRecord | None) -> None:
    if record is None:
        print(f"[{number}/{total}] {step.id} ...", file=sys.stderr, flush=True)
        return
    how = "cached" if record.cached else f"{record.seconds:.1f} s"
    highlights = {k: v for k, v in to_jsonable(record.metrics, with_type=False).items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool)}
    shown = ", ".join(f"{k} {v:.4g}" for k, v in list(highlights.items())[:3])
    print(f"[{number}/{total}] {step.id} done ({how}){': ' + shown if shown else ''}", file=sys.stderr, flush=True)


def _add_simulator(p) -> None:
    p.add_argument("--simulator", choices=["auto", *SIMULATORS], default=VERIFICATION.simulator,
                   help=f"RTL simulator; auto: Icarus below {AUTO_VERILATOR_IMAGES} images, Verilator from there")
    p.add_argument("--simulator-processes", type=int, default=VERIFICATION.simulator_processes,
                   help="simulator processes sharing the images (one build); default: one per available core")


def _add_input_code(p, *, default: str | None = _name_of(NETWORK.input_code, INPUT_CODES)) -> None:
    p.add_argument("--input-code", choices=sorted(INPUT_CODES), default=default,
                   help="how the host turns intensities into events: Bernoulli rate, deterministic (regular) "
                        "rate, or latency (time to first spike)" + (
                            "" if default else "; default: the code the network file records"))


def _add_run(sub, common) -> None:
    p = sub.add_parser("run", parents=[common], help="train, quantize, compile, verify and estimate, into one run folder")
    _add_run_options(p, sweep=False)
    p.add_argument("--out", type=_folder, required=True, help="run folder (steps already done there are reused)")
    p.add_argument("--nir", type=Path, help="a network trained elsewhere, as a NIR graph (.nir): imported in place of "
                                            "training, then quantized, compiled and verified")
    _add_nir_conventions(p)
    p.add_argument("--until", choices=STEP_IDS,
                   help="stop after this step (e.g. verify, for networks too large to synthesize as flip-flops)")


def _add_import(sub, common) -> None:
    p = sub.add_parser("import", parents=[common],
                       help="a NIR graph trained elsewhere, imported and quantized into a compiled network "
                            "(spikefab run --nir ... --until quantize); run again with --nir to go on")
    p.add_argument("nir", type=Path, help="the NIR graph (.nir)")
    _add_run_options(p, sweep=False)
    p.add_argument("--out", type=_folder, required=True, help="run folder (run --nir with it goes on from there)")
    _add_nir_conventions(p)


def _add_nir_conventions(p) -> None:
    p.add_argument("--nir-from", choices=sorted(FRAMEWORK_DT), default="snntorch",
                   help="the framework whose export wrote the graph: sets the Euler step its time constants are "
                        "discretised with (snnTorch 1e-4 s; Norse 1.1 writes tau times its dt: 1e-6 s)")
    p.add_argument("--nir-dt", type=float,
                   help="the Euler step (s), overriding --nir-from's (for a graph from another framework)")
    p.add_argument("--nir-reset", choices=["graph", *(r.value for r in Reset)], default="graph",
                   help="graph: as NIR says (v_reset = 0: to zero); subtract_after_leak: snnTorch's default "
                        "Leaky, which its export does not record; subtract: the threshold off before the next leak")


def _add_sweep(sub, common) -> None:
    p = sub.add_parser("sweep", parents=[common], help="one network's design space: runs over lanes, weight bits and timesteps, "
                                     "a table and plots of accuracy, energy, area and latency with the Pareto front")
    _add_run_options(p, sweep=True)
    p.add_argument("--out", type=_folder, required=True, help="sweep folder: one run folder per point, and the tables")
    p.add_argument("--scheduler", default=LOCAL,
                   help="where the points run: 'local' (a Dask distributed cluster on this machine, --workers "
                        "processes), 'serial' (in this process, one after another), or a Dask scheduler's address "
                        "(tcp://host:8786) whose workers have spikefab installed and see --out")
    p.add_argument("--workers", type=_positive, default=2, help="worker processes of the local cluster")
    p.add_argument("--threads-per-point", type=_positive, default=1,
                   help="torch threads of every point's training, wherever it runs (the same everywhere, so a "
                        "point's results do not depend on its worker)")


def _add_run_options(p, *, sweep: bool) -> None:
    """The options of a run; a sweep takes lists for the swept ones."""
    many = {"nargs": "+"} if sweep else {}
    p.add_argument("--dataset", choices=DATASETS, default=DATA.dataset)
    p.add_argument("--data-path", help="folder holding the data set's files (else the standard search)")
    p.add_argument("--conv", type=_conv_shape, nargs="*", default=list(NETWORK.convolutions),
                   metavar="CHANNELS:KERNEL[:STRIDE[:PADDING]]",
                   help="convolution layers before the hidden layers, on the data set's image (e.g. 16:5:2:2 32:5:2:2)")
    p.add_argument("--hidden", type=int, nargs="*", default=list(NETWORK.hidden),
                   help="fully connected hidden layer sizes (none: --hidden with no sizes)")
    p.add_argument("--timesteps", type=int, default=[NETWORK.timesteps] if sweep else NETWORK.timesteps, **many)
    p.add_argument("--leak-shift", type=_leak, default=NETWORK.leak_shift, help="membrane decay V -= V >> k, or 'none'")
    p.add_argument("--integration", choices=[m.value for m in Integration], default=NETWORK.integration.value)
    p.add_argument("--reset", choices=[m.value for m in Reset], default=NETWORK.reset.value,
                   help="what a spike does to its membrane: subtract the threshold (before the next leak), "
                        "subtract_after_leak (after it: snnTorch's default Leaky), or zero")
    p.add_argument("--readout", choices=[m.value for m in Readout], default=NETWORK.readout.value)
    p.add_argument("--surrogate", choices=sorted(SURROGATES), default=_name_of(NETWORK.surrogate, SURROGATES))
    p.add_argument("--da-lif", action="store_true",
                   help="DA-LIF hidden neurons: learnable decay and input scale per neuron (export folds the scale "
                        "into the weights and maps the decays to one leak shift per layer)")
    p.add_argument("--batch-norm", action="store_true",
                   help="batch-normalise each spiking layer's current per channel in float training (export folds "
                        "it into the weights and biases; the core is unchanged)")
    p.add_argument("--distill", choices=sorted(DISTILLATION_LOSSES),
                   help="distil from an ANN teacher trained first: output KL or HTA-KL, plus the hidden-layer path")
    p.add_argument("--teacher-hidden", type=int, nargs="+", default=list(DEFAULT_TEACHER.teacher_hidden),
                   help="the ANN teacher's hidden sizes")
    p.add_argument("--teacher-epochs", type=int, default=DEFAULT_TEACHER.teacher_epochs,
                   help="the ANN teacher's training epochs")
    p.add_argument("--backprop", choices=[b.value for b in Backprop], default=TRAINING.backprop.value,
                   help="gradients through time (BPTT) or through the spike rates (memory constant in T)")
    p.add_argument("--shift-pixels", type=int, default=TRAINING.shift_pixels,
                   help="augment training: move each training image at random by up to this many pixels")
    p.add_argument("--mirror", action="store_true",
                   help="augment training: flip each training image left-right at random (clothes, not digits)")
    p.add_argument("--epochs", type=int, default=TRAINING.epochs)
    p.add_argument("--batch-size", type=int, default=TRAINING.batch_size)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=TRAINING.device,
                   help="where training runs: cuda needs a CUDA build of torch and a GPU; auto takes cuda when "
                        "there is one (the integer export is the same either way)")
    p.add_argument("--train-processes", type=int, default=TRAINING.processes,
                   help="data-parallel training processes on this machine (torch.distributed, gloo on the CPU, "
                        "nccl on CUDA): each takes its share of every batch, the gradients are summed")
    p.add_argument("--qat-epochs", type=int, default=QUANTIZATION.qat_epochs,
                   help="quantization-aware training epochs; 0 exports the post-training quantized network")
    p.add_argument("--weight-bits", type=int, default=[QUANTIZATION.weight_bits] if sweep else QUANTIZATION.weight_bits,
                   **many)
    add_architecture_flags(p, sweep=sweep)
    _add_input_code(p)
    p.add_argument("--early-exit", action="store_true",
                   help="calibrate SEENN-I early exit (integer margin rule) on held-out training images")
    p.add_argument("--exit-tolerance", type=float, default=[EXIT.tolerance] if sweep else EXIT.tolerance, **many,
                   help="accuracy the early exit may cost on the held-out images (0.003 = 0.3 points)")
    p.add_argument("--test-images", type=_images, default=DATA.test_images, help="test images for the reference ('all')")
    p.add_argument("--verify-images", type=_images, default=VERIFICATION.verify_images, help="images through the RTL, or 'all'")
    p.add_argument("--energy-images", type=int, default=VERIFICATION.energy_images, help="inferences simulated at gate level")
    p.add_argument("--gate-simulator", choices=GATE_SIMULATORS, default=VERIFICATION.gate_simulator,
                   help="how the netlist is simulated for its activity: the compiled engine, or Icarus with a VCD "
                        "(the slow cross-check)")
    _add_simulator(p)
    p.add_argument("--library", choices=[m.value for m in CellLibrary], default=RUN.library.library.value)
    p.add_argument("--no-buffering", action="store_true",
                   help="map without ABC's buffering and gate sizing (Yosys's plain mapping: slower paths)")
    p.add_argument("--seed", type=int, default=RUN.seed)


def _add_export_nir(sub, common) -> None:
    p = sub.add_parser("export-nir", parents=[common],
                       help="write a compiled network as a NIR graph (integer units) that snnTorch and Norse read")
    p.add_argument("network", type=Path, help="a compiled network file (network.npz)")
    p.add_argument("output", type=Path, help="the .nir file to write")
    p.add_argument("--dt", type=float, default=NirConventions().dt,
                   help="the time step the leak's time constant is stated for (s); default snnTorch's")


def command_export_nir(args) -> int:
    if args.output.suffix != ".nir":
        raise ValueError(f"{args.output} does not end in .nir: name the graph file NAME.nir")
    network = CompiledNetwork.load(args.network)
    path = write_nir(network, args.output, dt=args.dt)
    print(f"spikefab export-nir: {'-'.join(map(str, network.layer_sizes))} network written to {path} "
          f"(integer units, dt = {args.dt:g} s)")
    return 0


def _add_verify(sub, common) -> None:
    p = sub.add_parser("verify", parents=[common], help="run a compiled network's RTL against the reference on test images")
    p.add_argument("--network", type=Path, required=True,
                   help="a compiled network file (network.npz), or a NIR graph spikefab exported (.nir)")
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--data-path")
    p.add_argument("--images", type=_images, default=100, help="how many test images, or 'all'")
    add_architecture_flags(p)
    _add_input_code(p, default=None)
    _add_simulator(p)
    p.add_argument("--encoding-seed", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=_folder, required=True)


def run_config_from(args, *, timesteps: int, weight_bits: int, lanes: int, architecture: dict | None = None,
                    exit_tolerance: float | None = None) -> RunConfig:
    """The run the flags ask for; a sweep point gives its own timesteps, weight bits and architecture
    fields, and its exit tolerance (its flag holds a list then)."""
    tolerance = args.exit_tolerance if exit_tolerance is None else exit_tolerance
    exit_rule = EarlyExitSettings(tolerance=tolerance)  # checked even where --early-exit is absent
    return RunConfig(
        data=DataSettings(dataset=args.dataset, data_path=args.data_path, test_images=args.test_images),
        network=NetworkSettings(
            hidden=tuple(args.hidden), convolutions=tuple(args.conv), timesteps=timesteps, leak_shift=args.leak_shift,
            integration=Integration(args.integration), reset=Reset(args.reset), readout=Readout(args.readout),
            surrogate=SURROGATES[args.surrogate](), dual_adaptive=args.da_lif,
            batch_norm=args.batch_norm, input_code=INPUT_CODES[args.input_code]()),
        training=TrainingSettings(
            epochs=args.epochs, batch_size=args.batch_size, backprop=Backprop(args.backprop), device=args.device,
            processes=args.train_processes,
            shift_pixels=args.shift_pixels, mirror=args.mirror,
            distillation=None if args.distill is None else DistillationConfig(
                output_loss=DISTILLATION_LOSSES[args.distill](), teacher_hidden=tuple(args.teacher_hidden),
                teacher_epochs=args.teacher_epochs)),
        quantization=QuantizationSettings(weight_bits=weight_bits, qat_epochs=args.qat_epochs),
        early_exit=exit_rule if args.early_exit else None,
        architecture=architecture_from(args, lanes=lanes, **(architecture or {})),
        library=LibraryConfig(library=CellLibrary(args.library), buffering=not args.no_buffering),
        verification=VerificationSettings(verify_images=args.verify_images, energy_images=args.energy_images,
                                          simulator=args.simulator, simulator_processes=args.simulator_processes,
                                          gate_simulator=args.gate_simulator),
        seed=args.seed, nir=_nir_source(args))


def _nir_source(args) -> NirSource | None:
    if getattr(args, "nir", None) is None:
        return None
    reset = None if args.nir_reset == "graph" else Reset(args.nir_reset)
    conventions = (NirConventions.of(args.nir_from, reset=reset) if args.nir_dt is None
                   else NirConventions(dt=args.nir_dt, reset=reset))
    return NirSource(path=str(args.nir), conventions=conventions)


def command_run(args) -> int:
    config = run_config_from(args, timesteps=args.timesteps, weight_bits=args.weight_bits, lanes=args.lanes)
    report, _ = run_and_report(config, args.out, until=args.until, progress=_progress)
    print(summary(report, args.out))
    return 0


def command_import(args) -> int:
    config = run_config_from(args, timesteps=args.timesteps, weight_bits=args.weight_bits, lanes=args.lanes)
    report, records = run_and_report(config, args.out, until="quantize", progress=_progress)
    print(summary(report, args.out))
    print(f"  network    {records.artifacts[Artifact.NETWORK]} (spikefab verify --network it, or spikefab run "
          f"--nir {args.nir} --out {args.out} with the same options to go on)")
    return 0


def command_sweep(args) -> int:
    points = design_points(timesteps=args.timesteps, weight_bits=args.weight_bits, lanes=args.lanes,
                           memories=[MemoryStyle(m) for m in args.memories], weight_bank_words=args.weight_bank_words,
                           exit_tolerances=args.exit_tolerance if args.early_exit else [None],
                           spike_batches=args.spike_batch)
    configs = {point: run_config_from(args, timesteps=point.timesteps, weight_bits=point.weight_bits, lanes=point.lanes,
                                      architecture={"memories": point.memories,
                                                    "weight_bank_words": point.weight_bank_words,
                                                    "spike_batch": point.spike_batch},
                                      exit_tolerance=args.exit_tolerance[0] if point.exit_tolerance is None else point.exit_tolerance)
               for point in points}
    result = run_sweep(configs, args.out, scheduler=args.scheduler, workers=args.workers,
                       threads=args.threads_per_point, progress=_progress)
    print(f"sweep of {len(points)} points: {sum(r.pareto for r in result.rows)} on the Pareto front; "
          f"table {args.out / 'sweep.md'}")
    for name, error in result.failed.items():
        print(f"error: point {name} failed: {error}", file=sys.stderr)
    return 1 if result.failed else 0


def verification_input_code(network: CompiledNetwork, *, dataset: str, requested: str | None) -> InputCode:
    """The code that feeds the network as its file says; a requested code or a data set that does not
    match what the network was trained on is refused."""
    if dataset in EVENT_DATASETS and network.encoding not in (Encoding.EVENTS, Encoding.UNRECORDED):
        raise ValueError(f"{dataset} is event data, but the network was trained on intensities coded as "
                         f"{network.encoding.value}: give the data set it was trained on")
    if dataset not in EVENT_DATASETS and network.encoding is Encoding.EVENTS:
        raise ValueError(f"the network was trained on event data, not on {dataset}'s intensities: give the "
                         f"event data set it was trained on")
    if dataset in EVENT_DATASETS:
        return EventFrames()
    if requested is None:
        return code_for(network.encoding)
    if network.encoding is not Encoding.UNRECORDED and requested != network.encoding.value:
        raise ValueError(f"--input-code {requested} does not match the network, which was trained on the "
                         f"{network.encoding.value} code: leave --input-code out to use it")
    return INPUT_CODES[requested]()


def load_network(path: Path) -> CompiledNetwork:
    """A network file: spikefab's .npz, or a .nir graph spikefab exported (read back exactly)."""
    if path.suffix != ".nir":
        return CompiledNetwork.load(path)
    return from_nir(read_graph(path))


def command_verify(args) -> int:
    network = load_network(args.network)
    code = verification_input_code(network, dataset=args.dataset, requested=args.input_code)
    data = load_dataset(args.dataset, args.data_path, timesteps=network.timesteps)
    if data.n_features != network.n_inputs:
        raise ValueError(f"{args.dataset} has {data.n_features} inputs per image, the network takes {network.n_inputs}")
    if network.class_names and tuple(network.class_names) != tuple(data.class_names):
        raise ValueError(f"the network was trained on classes {', '.join(network.class_names)}, not on "
                         f"{args.dataset}'s ({', '.join(data.class_names)}): give the data set it was trained on")
    x, y = data.test_x, data.test_y
    if args.images is not None:
        x, y = x[:args.images], y[:args.images]
    architecture = dataclasses.replace(architecture_from(args), trace=True)
    if architecture.encoder is not None and not isinstance(code, RateCode):
        raise ValueError(f"the on-chip encoder draws a rate code, but this network is fed "
                         f"{type(code).__name__}: leave out --encoder-lanes")
    test = encode_test_set(x, y, data.class_names, timesteps=network.timesteps, seed=args.encoding_seed,
                           code=None if isinstance(code, EventFrames) else code)
    args.out.mkdir(parents=True, exist_ok=True)
    processes = available_cores() if args.simulator_processes is None else args.simulator_processes
    start = time.perf_counter()
    metrics = verify_network(network, test, architecture=architecture, simulator=args.simulator, seed=args.seed,
                             work_dir=args.out / "rtl", processes=processes)
    report = build_verify_report(dataset=args.dataset, network=network.layer_sizes, timesteps=network.timesteps,
                                 verify=metrics, architecture=architecture,
                                 total_seconds=round(time.perf_counter() - start, 1))
    write_report(args.out, report)
    print(summary(report, args.out))
    if metrics.mismatched_images:
        print(f"first mismatch: {metrics.first_mismatch}", file=sys.stderr)
        return EXIT_MISMATCH
    return 0


class Terminated(Exception):
    """SIGTERM arrived: stop as for Ctrl-C, with the exit code of a terminated process."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def _describe_os_error(exc: OSError) -> str:
    what = f"{exc.filename}: {exc.strerror}" if exc.filename else (exc.strerror or str(exc))
    hints = {errno.ENOSPC: "the disk is full: free some space and run again (finished steps are kept)",
             errno.EACCES: "no permission: choose a folder you can write with --out",
             errno.EROFS: "the file system is read-only: choose another --out",
             errno.ENOTDIR: "a path that should be a folder is a file: give --out a folder",
             errno.EEXIST: "a file is in the way: give --out a folder",
             errno.ENOENT: "it does not exist (removed while the run used it?): run again"}
    return f"{what}; {hints[exc.errno]}" if exc.errno in hints else what


def _check_out(args) -> None:
    out = getattr(args, "out", None)
    if out is not None and out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder: give a folder (it is created if missing)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikefab", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub, common)
    _add_import(sub, common)
    _add_sweep(sub, common)
    _add_verify(sub, common)
    _add_export_nir(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 success; 1 the RTL or netlist differs from the reference; 2 any other failure
    (bad input, a missing or failing tool, a full disk, ...), named in one line (the traceback with
    --debug); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM)."""
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    # SIGINT interrupts whatever the process inherited: a shell starts background jobs with SIGINT
    # ignored, and Python then leaves it so (a `kill -INT` to such a run did nothing).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main_thread else None
    try:
        _check_out(args)
        return {"run": command_run, "import": command_import, "sweep": command_sweep, "verify": command_verify,
                "export-nir": command_export_nir}[args.command](args)
    except VerificationError as exc:
        print(f"spikefab: verification failed: {exc}", file=sys.stderr)
        return EXIT_MISMATCH
    except KeyboardInterrupt:
        print("spikefab: interrupted; the step in progress was set aside (its logs in NN-step.failed), finished "
              "steps are kept: run again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("spikefab: terminated; the step in progress was set aside, finished steps are kept", file=sys.stderr)
        return EXIT_TERMINATED
    except (ToolError, DatasetError, CompiledNetworkError, LibraryError, RunFolderLocked, ValueError,
            TypeError) as exc:
        _report(f"error: {exc}", args)
        return EXIT_ERROR
    except OSError as exc:
        _report(f"error: {_describe_os_error(exc)}", args)
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours or of a library: still one line, and exit 2, not 1
        _report(f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback, and "
                "please report it)", args)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


def _report(message: str, args) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"spikefab: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
