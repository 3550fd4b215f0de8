"""A NIR graph (the Neuromorphic Intermediate Representation, PyPI `nir`) read as the chain of
spiking layers the core runs, in discrete time, with every convention stated.

NIR is continuous-time; frameworks step it with forward Euler at their own dt. The conventions
(the README's "Bring your own network" table says the same):

- LIF: tau v' = (v_leak - v) + r I  ->  v[t] = beta v[t-1] + (dt/tau) v_leak + (dt r / tau) I[t],
  beta = 1 - dt / tau (snnTorch's and Norse's Euler step; snnTorch writes tau = dt / (1 - beta) and
  r = tau / dt, so its Leaky comes back exactly, whatever dt both sides use; Norse's LIFBox steps
  v += dt tau_mem_inv ((v_leak - v) + I) and its 1.1 export writes tau = dt / tau_mem_inv, so its
  graphs come back exactly at dt = Norse's dt squared, FRAMEWORK_DT["norse"]).
- IF: v' = r I has no time constant; the frameworks that write it (Sinabs, snnTorch) step it as
  v[t] = v[t-1] + r I[t], so dt does not enter.
- I (integrator) and LI as the last node: the core's readout, a non-spiking accumulator of the
  currents; I steps as v += r I, exactly; LI's leak is dropped (an approximation, named, exact only
  for an infinite tau).
- The spike: NIR fires at v > v_threshold, spikefab at v >= threshold; the two differ only for a
  membrane exactly at the threshold.
- The reset: NIR resets to v_reset, so v_reset = 0 is the core's reset to zero, which is exactly
  snnTorch's Leaky(reset_mechanism="zero", reset_delay=False) and Norse's LIFBox. snnTorch's default
  Leaky subtracts the threshold after the next leak (reset_delay=True: v[t] = beta v[t-1] + I[t] -
  s[t-1] theta), and its NIR export does not say so: pass reset=SUBTRACT_AFTER_LEAK, the core's reset
  that does exactly that. (Reset.SUBTRACT subtracts before the leak, v[t] = beta (v[t-1] - s theta) +
  I[t]; snnTorch's reset_delay=False, which needs twice the threshold for the next spike while the
  membrane stays above it, has no core equivalent.) A non-zero v_reset has no core equivalent and is
  refused.
- Scalars are broadcast to the layer's width; a threshold per neuron is folded into its weights and
  bias (the dynamics are linear up to the threshold, so dividing a neuron's inputs and threshold by
  the threshold changes no spike), leaving threshold 1; the gain dt r / tau and the leak drive
  (dt / tau) v_leak are folded in the same way.
- The core has one leak per layer and spikefab's float model one decay for all spiking layers: a
  decay that varies across a layer's neurons is replaced by its mean (named as an approximation);
  layers with different decays are refused.

Anything else (a node type the core has no counterpart for, a recurrent edge, a branch, a shape
that does not chain, a NaN) is refused naming the node and what to do.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .compiled import Readout, Reset

# snnTorch's dt (its export and import both use 1e-4 s).
SNNTORCH_DT = 1e-4
# Norse steps at 1e-3 s, but Norse 1.1's to_nir writes tau = dt / tau_mem_inv, the time constant
# multiplied by its dt (norse/norse#411, open), so its graphs step as trained at dt = (1e-3 s)^2.
NORSE_DT = 1e-3
NORSE_EXPORT_DT = NORSE_DT ** 2
# The dt that steps each framework's exported graph as the framework stepped it in training.
FRAMEWORK_DT = {"snntorch": SNNTORCH_DT, "norse": NORSE_EXPORT_DT}
# Relative spread below which a layer's decays count as one.
UNIFORM = 1e-6
LATER_NODES = {"Conv1d": "convolution", "Conv2d": "convolution", "AvgPool2d": "convolution",
               "SumPool2d": "convolution"}
NO_COUNTERPART = {
    "CubaLIF": "the core has no synaptic-current state (one membrane per neuron): train with LIF neurons "
               "(snnTorch Leaky, Norse LIFBox) instead of current-based ones",
    "CubaLI": "the core's readout has no synaptic-current state: end the network with LI, I or LIF",
    "Delay": "the core has no synaptic delays",
    "Threshold": "a bare threshold without a membrane has no core counterpart: use IF or LIF",
}


class NirImportError(ValueError):
    """A NIR graph the core cannot run, with the node named and what to do."""


@dataclass(frozen=True, kw_only=True)
class NirConventions:
    """How the continuous-time graph is stepped. reset: None keeps the graph's (v_reset = 0: to zero);
    Reset.SUBTRACT_AFTER_LEAK is snnTorch's default Leaky, which its export does not record."""

    dt: float = SNNTORCH_DT
    reset: Reset | None = None

    @classmethod
    def of(cls, framework: str, *, reset: Reset | None = None) -> "NirConventions":
        """The conventions that step a graph the way `framework` (a key of FRAMEWORK_DT) trained it."""
        if framework not in FRAMEWORK_DT:
            raise ValueError(f"unknown framework {framework!r}: spikefab knows {', '.join(FRAMEWORK_DT)} "
                             f"(for another, give dt)")
        return cls(dt=FRAMEWORK_DT[framework], reset=reset)

    def __post_init__(self) -> None:
        if not isinstance(self.dt, (int, float)) or not math.isfinite(self.dt) or self.dt <= 0:
            raise ValueError(f"dt must be a positive number of seconds, not {self.dt!r}")
        if self.reset is not None and not isinstance(self.reset, Reset):
            raise TypeError(f"reset must be a Reset or None (as the graph says), not {self.reset!r}")


@dataclass(frozen=True, kw_only=True, eq=False)
class ImportedLayer:
    """One layer in spikefab's float units: current = x W^T + b per timestep, threshold 1."""

    node: str                  # the neuron node's name in the graph
    weight: np.ndarray         # (n_out, n_in)
    bias: np.ndarray           # (n_out,)
    spiking: bool
    beta: float | None         # the per-step decay; None: no leak


@dataclass(frozen=True, kw_only=True, eq=False)
class ImportedNetwork:
    layers: tuple[ImportedLayer, ...]
    n_inputs: int
    reset: Reset
    readout: Readout
    conventions: NirConventions
    approximations: tuple[str, ...] = field(default_factory=tuple)  # each one named, with its node

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.n_inputs, *(layer.weight.shape[0] for layer in self.layers))

    @property
    def beta(self) -> float | None:
        """The spiking layers' shared decay (None: none leaks)."""
        return self.layers[0].beta


def _kind(node) -> str:
    return type(node).__name__


def _finite(name: str, what: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise NirImportError(f"node {name!r}: {what} holds NaN or infinite values; fix the model before export")
    return array


def _per_neuron(name: str, what: str, value, n: int) -> np.ndarray:
    """A finite parameter broadcast to the layer's n neurons (NIR frameworks write scalars as shape () or (1,))."""
    array = _finite(name, what, value).reshape(-1)
    if array.size == 1:
        return np.full(n, float(array[0]))
    if array.size != n:
        raise NirImportError(f"node {name!r}: {what} has {array.size} values for a layer of {n} neurons")
    return array


def _chain(graph) -> list[str]:
    """The node names from the input to the output, refusing branches, cycles and loose ends."""
    inputs = [name for name, node in graph.nodes.items() if _kind(node) == "Input"]
    if len(inputs) != 1:
        raise NirImportError(f"the graph has {len(inputs)} Input nodes; the core takes one input vector")
    successors: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for source, target in graph.edges:
        for end in (source, target):
            if end not in graph.nodes:
                raise NirImportError(f"an edge names node {end!r}, which the graph does not have")
        successors[source].append(target)
    order, name = [], inputs[0]
    while True:
        if name in order:
            raise NirImportError(f"node {name!r} is on a recurrent edge (a cycle); the core runs feed-forward "
                                 f"layers only: remove the recurrence")
        order.append(name)
        nexts = successors[name]
        if _kind(graph.nodes[name]) == "Output":
            if nexts:
                raise NirImportError(f"the Output node {name!r} has outgoing edges")
            break
        if len(nexts) != 1:
            raise NirImportError(f"node {name!r} has {len(nexts)} successors; the core runs a chain of layers "
                                 f"(one path from Input to Output)")
        name = nexts[0]
    unused = set(graph.nodes) - set(order)
    if unused:
        raise NirImportError(f"nodes {sorted(unused)} are not on the path from Input to Output")
    return order


def nir_file(path: str | Path) -> Path:
    """`path`, which must name an existing file, or a NirImportError saying so."""
    path = Path(path)
    if not path.is_file():
        raise NirImportError(f"{path} does not exist or is not a file: give a .nir file written by nir.write")
    return path


def read_graph(path: str | Path):
    """A .nir file's graph, or a NirImportError naming the file."""
    import nir

    path = nir_file(path)
    try:
        return nir.read(path)
    except Exception as exc:  # h5py and nir raise many kinds; the file is what is wrong
        raise NirImportError(f"{path} is not a readable NIR graph ({type(exc).__name__}: {exc})") from None


def import_nir(source, conventions: NirConventions = NirConventions()) -> ImportedNetwork:
    """The graph (a NIRGraph or a .nir file's path) as spikefab layers."""
    import nir

    graph = read_graph(source) if isinstance(source, (str, Path)) else source
    if not isinstance(graph, nir.NIRGraph):
        raise NirImportError(f"expected a NIRGraph, not {type(graph).__name__}")
    if any(isinstance(node, nir.NIRGraph) for node in graph.nodes.values()):
        raise NirImportError("the graph has sub-graphs (recurrent blocks); the core runs feed-forward layers only")
    order = _chain(graph)
    dt = conventions.dt
    n_inputs = None
    layers: list[ImportedLayer] = []
    approximations: list[str] = []
    pending: tuple[np.ndarray, np.ndarray] | None = None  # the linear map since the last neuron node
    width = None  # the current vector's length
    for name in order:
        node = graph.nodes[name]
        kind = _kind(node)
        if kind == "Input":
            shape = np.asarray(node.input_type["input"]).reshape(-1)
            width = n_inputs = int(np.prod(shape))
        elif kind == "Flatten":
            pass  # the core's input is already a flat vector
        elif kind in ("Affine", "Linear"):
            weight = _finite(name, "weight", node.weight)
            if weight.ndim != 2:
                raise NirImportError(f"node {name!r}: a {weight.ndim}-D weight; the core's layers are dense (2-D)")
            if weight.shape[1] != width:
                raise NirImportError(f"node {name!r} takes {weight.shape[1]} inputs but receives {width}")
            bias = (_finite(name, "bias", node.bias).reshape(-1) if kind == "Affine"
                    else np.zeros(weight.shape[0]))
            if bias.size != weight.shape[0]:
                raise NirImportError(f"node {name!r}: {bias.size} biases for {weight.shape[0]} outputs")
            if pending is not None:  # two linear maps in a row are one
                weight, bias = weight @ pending[0], weight @ pending[1] + bias
            pending, width = (weight, bias), weight.shape[0]
        elif kind == "Scale":
            if pending is None:
                raise NirImportError(f"node {name!r}: a Scale must follow an Affine or Linear node")
            scale = _per_neuron(name, "scale", node.scale, width)
            pending = (pending[0] * scale[:, None], pending[1] * scale)
        elif kind in ("LIF", "IF", "LI", "I"):
            if pending is None:
                raise NirImportError(f"node {name!r}: a {kind} neuron must follow an Affine or Linear node")
            layer, notes = _neuron_layer(name, node, kind, pending, dt)
            layers.append(layer)
            approximations += notes
            pending = None
        elif kind == "Output":
            if pending is not None:
                raise NirImportError(f"the graph ends in a linear node before {name!r}: end it with a neuron "
                                     f"(LIF for a spike-count readout, LI or I for an accumulator)")
        elif kind in LATER_NODES:
            raise NirImportError(f"node {name!r} is a {kind}: {LATER_NODES[kind]} layers are not supported yet; "
                                 f"the core runs dense layers")
        elif kind in NO_COUNTERPART:
            raise NirImportError(f"node {name!r} is a {kind}: {NO_COUNTERPART[kind]}")
        else:
            raise NirImportError(f"node {name!r} is a {kind}, which spikefab does not import")
    if not layers:
        raise NirImportError("the graph has no neuron layers (LIF, IF, LI or I)")
    for layer in layers[:-1]:
        if not layer.spiking:
            raise NirImportError(f"node {layer.node!r}: only the last layer may be a non-spiking accumulator")
    spiking = [layer for layer in layers if layer.spiking]
    betas = [layer.beta for layer in spiking]
    if (None in betas and any(b is not None for b in betas)) or (
            None not in betas and max(betas) - min(betas) > UNIFORM * max(betas)):
        raise NirImportError(f"the spiking layers decay differently ({', '.join(f'{layer.node}: {layer.beta}' for layer in spiking)}); "
                             f"spikefab's float model shares one decay: give every LIF layer the same tau")
    if None not in betas:  # equal up to rounding (float32 parameters): one value for all
        shared = float(np.mean(betas))
        layers = [dataclasses.replace(layer, beta=shared) if layer.spiking else layer for layer in layers]
    # v_reset = 0 (checked per layer) is the reset to zero, unless the caller knows better (snnTorch).
    reset = conventions.reset or _recorded_reset(graph) or Reset.ZERO
    readout = Readout.SPIKE_COUNT if layers[-1].spiking else Readout.MEMBRANE
    return ImportedNetwork(layers=tuple(layers), n_inputs=n_inputs, reset=reset, readout=readout,
                           conventions=conventions, approximations=tuple(approximations))


def _recorded_reset(graph) -> Reset | None:
    """The reset a graph's metadata records (spikefab's export writes it: NIR cannot say "subtract")."""
    value = (getattr(graph, "metadata", None) or {}).get("reset")
    try:
        return None if value is None else Reset(value.decode() if isinstance(value, bytes) else str(value))
    except ValueError:
        raise NirImportError(f"the graph's metadata records reset {value!r}; spikefab knows "
                             f"{', '.join(r.value for r in Reset)}") from None


def _neuron_layer(name, node, kind, pending, dt):
    weight, bias = pending
    n = weight.shape[0]
    param = lambda attribute: _per_neuron(name, attribute, getattr(node, attribute), n)  # noqa: E731
    r = param("r")
    notes = []
    if kind in ("LIF", "LI"):
        tau = param("tau")
        if np.any(tau <= 0):
            raise NirImportError(f"node {name!r}: tau must be positive")
        if np.any(dt >= tau):
            raise NirImportError(f"node {name!r}: dt = {dt} s is not below tau ({tau.min():.3g} s): the Euler step "
                                 f"would not decay but overshoot; give the dt the model was trained with (a graph "
                                 f"from Norse 1.1's to_nir steps at {NORSE_EXPORT_DT:g} s: --nir-from norse)")
        gain, drive, decay = dt * r / tau, dt / tau * param("v_leak"), 1.0 - dt / tau
    else:  # IF and I: no time constant
        gain, drive, decay = r, np.zeros(n), None
    weight, bias = weight * gain[:, None], bias * gain + drive
    beta = None
    if decay is not None:
        beta = float(decay.mean())
        if decay.max() - decay.min() > UNIFORM * beta:
            notes.append(f"{name}: decays from {decay.min():.6g} to {decay.max():.6g} across its neurons replaced "
                         f"by their mean {beta:.6g} (one leak per layer)")
    if kind in ("LI", "I"):
        if kind == "LI":
            notes.append(f"{name}: LI's leak (decay {beta:.6g}) dropped: the core's readout accumulates without "
                         f"leak")
        return ImportedLayer(node=name, weight=weight, bias=bias, spiking=False, beta=None), notes
    threshold = param("v_threshold")
    if np.any(threshold <= 0):
        raise NirImportError(f"node {name!r}: v_threshold must be positive (the core fires at a positive "
                             f"threshold)")
    if np.any(param("v_reset") != 0):
        raise NirImportError(f"node {name!r}: v_reset is not 0; the core resets to 0 or subtracts the threshold")
    # Dividing a neuron's inputs and threshold by its threshold changes no spike: threshold 1 for all.
    weight, bias = weight / threshold[:, None], bias / threshold
    return ImportedLayer(node=name, weight=weight, bias=bias, spiking=True, beta=beta), notes
