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

- Convolutions: Conv2d (square kernel, equal strides and paddings, no dilation, one group) on the
  channel-first maps NIR speaks; the core's maps are channel-last, so the Affine after a Flatten has
  its columns permuted (model/convolution.py). SumPool2d and AvgPool2d (no padding) between a Conv2d
  and its neuron are folded into it, exactly: pooling P x P at stride S after a convolution of kernel K
  and stride s is one convolution of kernel K + (P - 1) s and stride S s whose weights sum the shifted
  kernels (an average divides them by P^2). A neuron's parameters must then be the same across a
  channel's positions (they fold into the channel's shared weights). Convolutions come before the
  dense layers, and the last layer is dense.

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
from .convolution import ConvGeometry, ConvShape, channel_first_order

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
POOLS = ("SumPool2d", "AvgPool2d")
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
    """One layer in spikefab's float units: current = x W^T + b per timestep (a convolution's on
    channel-last maps), threshold 1."""

    node: str                  # the neuron node's name in the graph
    weight: np.ndarray         # (n_out, n_in), inputs channel-last; a convolution's torch kernel (out, in, k, k)
    bias: np.ndarray           # (n_out,); a convolution's (out_channels,)
    spiking: bool
    beta: float | None         # the per-step decay; None: no leak
    conv: ConvGeometry | None = None

    @property
    def n_out(self) -> int:
        return self.weight.shape[0] if self.conv is None else self.conv.n_out


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
        """(inputs, the dense layers' outputs...): SNNConfig's sizes; the convolutions come before."""
        return (self.n_inputs, *(layer.n_out for layer in self.layers if layer.conv is None))

    @property
    def image(self) -> tuple[int, int, int] | None:
        first = self.layers[0].conv
        return None if first is None else (first.in_channels, first.in_height, first.in_width)

    @property
    def convolutions(self) -> tuple[ConvShape, ...]:
        return tuple(ConvShape(out_channels=g.out_channels, kernel=g.kernel, stride=g.stride, padding=g.padding)
                     for g in (layer.conv for layer in self.layers) if g is not None)

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
    conv: ConvGeometry | None = None  # with `pending` a convolution's (torch kernel, channel biases)
    width = None  # the current vector's length
    maps = None  # the current (channels, height, width) while the values are maps
    flattened = None  # the maps a Flatten made flat (channel-first), for the next Affine's columns
    for name in order:
        node = graph.nodes[name]
        kind = _kind(node)
        if kind == "Input":
            shape = np.asarray(node.input_type["input"]).reshape(-1)
            width = n_inputs = int(np.prod(shape))
            maps = tuple(int(n) for n in shape) if shape.size == 3 else None
        elif kind == "Flatten":
            if pending is not None:
                raise NirImportError(f"node {name!r}: a Flatten between a linear map and its neuron; the core "
                                     f"runs each convolution with its own neurons")
            flattened, maps = maps, None  # the core's maps are flat vectors already (channel-last)
        elif kind == "Conv2d":
            if pending is not None or maps is None:
                raise NirImportError(f"node {name!r}: a Conv2d must take the input image or a convolution's "
                                     f"spikes (channels, height, width), not {'a linear map' if pending is not None else 'a flat vector'}")
            if layers and layers[-1].conv is None:
                raise NirImportError(f"node {name!r}: a convolution after a dense layer; the core runs the "
                                     f"convolutions first")
            pending, conv = _convolution(name, node, maps)
            maps, width = (conv.out_channels, conv.out_height, conv.out_width), conv.n_out
        elif kind in POOLS:
            if conv is None or pending is None:
                raise NirImportError(f"node {name!r}: the core folds a {kind} into the Conv2d before it: put it "
                                     f"between a Conv2d and its neuron")
            pending, conv = _fold_pool(name, node, kind, pending, conv)
            maps, width = (conv.out_channels, conv.out_height, conv.out_width), conv.n_out
        elif kind in ("Affine", "Linear"):
            weight = _finite(name, "weight", node.weight)
            if weight.ndim != 2:
                raise NirImportError(f"node {name!r}: a {weight.ndim}-D weight; the core's layers are dense (2-D)")
            if conv is not None or maps is not None:
                raise NirImportError(f"node {name!r}: an {kind} on maps; Flatten a convolution's spikes first")
            if weight.shape[1] != width:
                raise NirImportError(f"node {name!r} takes {weight.shape[1]} inputs but receives {width}")
            if flattened is not None:  # its inputs come channel-first; the core's are channel-last
                channel_last = np.empty_like(weight)
                channel_last[:, channel_first_order(*flattened)] = weight
                weight, flattened = channel_last, None
            bias = (_finite(name, "bias", node.bias).reshape(-1) if kind == "Affine"
                    else np.zeros(weight.shape[0]))
            if bias.size != weight.shape[0]:
                raise NirImportError(f"node {name!r}: {bias.size} biases for {weight.shape[0]} outputs")
            if pending is not None:  # two linear maps in a row are one
                weight, bias = weight @ pending[0], weight @ pending[1] + bias
            pending, width = (weight, bias), weight.shape[0]
        elif kind == "Scale":
            if conv is not None:
                raise NirImportError(f"node {name!r}: a Scale after a Conv2d is not supported; fold it into the kernel")
            if pending is None:
                raise NirImportError(f"node {name!r}: a Scale must follow an Affine or Linear node")
            scale = _per_neuron(name, "scale", node.scale, width)
            pending = (pending[0] * scale[:, None], pending[1] * scale)
        elif kind in ("LIF", "IF", "LI", "I"):
            if pending is None:
                raise NirImportError(f"node {name!r}: a {kind} neuron must follow an Affine or Linear node")
            layer, notes = _neuron_layer(name, node, kind, pending, dt, conv)
            layers.append(layer)
            approximations += notes
            pending, conv = None, None
        elif kind == "Output":
            if pending is not None:
                raise NirImportError(f"the graph ends in a linear node before {name!r}: end it with a neuron "
                                     f"(LIF for a spike-count readout, LI or I for an accumulator)")
        elif kind in NO_COUNTERPART:
            raise NirImportError(f"node {name!r} is a {kind}: {NO_COUNTERPART[kind]}")
        else:
            raise NirImportError(f"node {name!r} is a {kind}, which spikefab does not import")
    if not layers:
        raise NirImportError("the graph has no neuron layers (LIF, IF, LI or I)")
    if layers[-1].conv is not None:
        raise NirImportError(f"the graph ends in a convolution ({layers[-1].node!r}); end it with a dense readout "
                             f"(Flatten, Affine and a neuron)")
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


def _convolution(name, node, maps) -> tuple[tuple[np.ndarray, np.ndarray], ConvGeometry]:
    """A Conv2d node as (kernel, biases) and its geometry on the incoming (C, H, W) maps."""
    kernel = _finite(name, "weight", node.weight)
    if kernel.ndim != 4 or kernel.shape[2] != kernel.shape[3]:
        raise NirImportError(f"node {name!r}: a {kernel.shape} kernel; the core takes square (out, in, k, k) kernels")
    pairs = {what: np.broadcast_to(np.asarray(getattr(node, what)), (2,)) for what in ("stride", "padding", "dilation")}
    if isinstance(node.padding, str) or any(pair[0] != pair[1] for pair in pairs.values()):
        raise NirImportError(f"node {name!r}: strides {pairs['stride']}, paddings {node.padding}: the core takes "
                             f"equal numbers for both axes")
    if int(pairs["dilation"][0]) != 1 or int(node.groups) != 1:
        raise NirImportError(f"node {name!r}: dilation and groups must be 1 (dilation {pairs['dilation'][0]}, "
                             f"groups {node.groups})")
    if kernel.shape[1] != maps[0]:
        raise NirImportError(f"node {name!r} takes {kernel.shape[1]} channels but receives {maps[0]}")
    bias = _finite(name, "bias", node.bias).reshape(-1) if np.size(node.bias) else np.zeros(kernel.shape[0])
    if bias.size == 1:
        bias = np.full(kernel.shape[0], float(bias[0]))
    try:
        geometry = ConvGeometry(in_channels=maps[0], in_height=maps[1], in_width=maps[2], out_channels=kernel.shape[0],
                                kernel=kernel.shape[2], stride=int(pairs["stride"][0]), padding=int(pairs["padding"][0]))
    except ValueError as exc:
        raise NirImportError(f"node {name!r}: {exc}") from None
    if bias.size != kernel.shape[0]:
        raise NirImportError(f"node {name!r}: {bias.size} biases for {kernel.shape[0]} channels")
    return (kernel, bias), geometry


def _fold_pool(name, node, kind, pending, conv: ConvGeometry):
    """Sum or average pooling folded into the convolution before it: one convolution, exactly."""
    size = np.broadcast_to(np.asarray(node.kernel_size), (2,))
    stride = np.broadcast_to(np.asarray(node.stride), (2,))
    padding = np.broadcast_to(np.asarray(node.padding), (2,))
    if size[0] != size[1] or stride[0] != stride[1] or np.any(padding != 0):
        raise NirImportError(f"node {name!r}: the core folds square pooling without padding (size {size}, stride "
                             f"{stride}, padding {padding})")
    pool, step = int(size[0]), int(stride[0])
    kernel, bias = pending
    wide = conv.kernel + (pool - 1) * conv.stride
    folded = np.zeros((*kernel.shape[:2], wide, wide))
    for a in range(pool):
        for b in range(pool):
            folded[:, :, a * conv.stride:a * conv.stride + conv.kernel, b * conv.stride:b * conv.stride + conv.kernel] += kernel
    scale = 1.0 / (pool * pool) if kind == "AvgPool2d" else 1.0
    try:
        geometry = ConvGeometry(in_channels=conv.in_channels, in_height=conv.in_height, in_width=conv.in_width,
                                out_channels=conv.out_channels, kernel=wide, stride=conv.stride * step,
                                padding=conv.padding)
    except ValueError as exc:
        raise NirImportError(f"node {name!r}: folded into the convolution before it: {exc}") from None
    return (folded * scale, bias * pool * pool * scale), geometry


def _per_channel(name: str, what: str, value, conv: ConvGeometry) -> np.ndarray:
    """A neuron parameter after a convolution, one value per channel (it folds into shared weights)."""
    per_neuron = _per_neuron(name, what, value, conv.n_out) if np.size(value) != conv.out_channels else \
        np.repeat(_finite(name, what, value).reshape(-1), conv.out_height * conv.out_width)
    grid = per_neuron.reshape(conv.out_channels, -1)  # NIR's maps are channel-first
    if np.any(grid != grid[:, :1]):
        raise NirImportError(f"node {name!r}: {what} varies across a channel's positions; after a convolution the "
                             f"core needs one value per channel (its weights are shared)")
    return grid[:, 0]


def _neuron_layer(name, node, kind, pending, dt, conv: ConvGeometry | None = None):
    weight, bias = pending
    n = weight.shape[0]
    if conv is None:
        param = lambda attribute: _per_neuron(name, attribute, getattr(node, attribute), n)  # noqa: E731
    else:  # the kernel's out channels are the rows that scale
        param = lambda attribute: _per_channel(name, attribute, getattr(node, attribute), conv)  # noqa: E731
    shape = weight.shape
    weight = weight.reshape(n, -1)
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
        return ImportedLayer(node=name, weight=weight.reshape(shape), bias=bias, spiking=False, beta=None,
                             conv=conv), notes
    threshold = param("v_threshold")
    if np.any(threshold <= 0):
        raise NirImportError(f"node {name!r}: v_threshold must be positive (the core fires at a positive "
                             f"threshold)")
    if np.any(param("v_reset") != 0):
        raise NirImportError(f"node {name!r}: v_reset is not 0; the core resets to 0 or subtracts the threshold")
    # Dividing a neuron's inputs and threshold by its threshold changes no spike: threshold 1 for all.
    weight, bias = weight / threshold[:, None], bias / threshold
    return ImportedLayer(node=name, weight=weight.reshape(shape), bias=bias, spiking=True, beta=beta, conv=conv), notes
