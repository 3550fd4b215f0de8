"""A compiled network as a NIR graph, and back.

The graph is in the core's integer units: each layer an Affine node (the integer weights, out x in,
and biases), or a Conv2d node (torch's (out, in, k, k) kernel, per-channel biases), and a neuron node;
the graph speaks torch's channel-first layout, so a convolutional network's Input is (C, H, W), a
Flatten follows its last convolution, and the Affine after it takes its columns in channel-first
order (the core's channel-last order, model/convolution.py, is permuted on the way out and back); a leak shift k becomes a LIF with tau = dt 2^k (its Euler decay
1 - dt / tau is the shift's 1 - 2^-k) and r = tau / dt (gain 1), no leak shift an IF with r = 1,
the accumulator readout an I with r = 1; thresholds are the integer thresholds, v_leak and v_reset 0.
What NIR cannot say rides in the graph's metadata (the compiled network's header: the reset when
it subtracts, membrane widths, timesteps, early exit, class names), which snnTorch and Norse ignore
and spikefab reads back, so export then import gives the identical network. Two things a framework
running the graph does differently from the core, stated rather than hidden: its leak is a float
multiplication where the core shifts and floors, and it resets to zero where the header says the
core subtracts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .atomic_file import write_atomically
from .compiled import CompiledLayer, CompiledNetwork, CompiledNetworkError
from .convolution import ConvGeometry, channel_first_order
from .nir_import import SNNTORCH_DT, NirConventions

METADATA_KEY = "spikefab_network"


def to_nir(net: CompiledNetwork, *, dt: float = SNNTORCH_DT):
    """The network as a nir.NIRGraph (write it with nir.write)."""
    import nir

    NirConventions(dt=dt)  # the one check of a time step
    first = net.layers[0].conv
    nodes: dict[str, object] = {"input": nir.Input(input_type=np.array(
        [net.n_inputs] if first is None else [first.in_channels, first.in_height, first.in_width]))}
    chain = ["input"]
    for k, layer in enumerate(net.layers):
        shape = _neuron_shape(layer)
        ones = np.ones(shape)
        if layer.conv is None:
            previous = net.layers[k - 1].conv if k else None
            if previous is not None:
                # NIR shapes have no batch dimension: flatten from the channels on (start_dim 0), as
                # snnTorch's export writes it.
                nodes[f"flatten{k}"] = nir.Flatten(input_type={"input": np.array(_neuron_shape(net.layers[k - 1]))},
                                                   start_dim=0)
                chain.append(f"flatten{k}")
            nodes[f"affine{k}"] = nir.Affine(weight=_channel_first_columns(layer, previous).astype(np.float64),
                                             bias=layer.bias.astype(np.float64))
        else:
            g = layer.conv
            nodes[f"affine{k}"] = nir.Conv2d(
                input_shape=(g.in_height, g.in_width), weight=_kernel(layer).astype(np.float64),
                stride=(g.stride, g.stride), padding=(g.padding, g.padding), dilation=(1, 1), groups=1,
                bias=layer.bias.astype(np.float64))
        threshold = ones * float(layer.threshold)
        if not layer.spiking:
            neuron = nir.I(r=ones)
        elif layer.leak_shift is None:
            neuron = nir.IF(r=ones, v_threshold=threshold, v_reset=np.zeros(shape))
        else:
            tau = ones * dt * 2.0 ** layer.leak_shift
            neuron = nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(shape), v_threshold=threshold,
                             v_reset=np.zeros(shape))
        nodes[f"neuron{k}"] = neuron
        chain += [f"affine{k}", f"neuron{k}"]
    nodes["output"] = nir.Output(output_type=np.array(_neuron_shape(net.layers[-1])))
    chain.append("output")
    header = net.header()
    metadata = {METADATA_KEY: json.dumps(header), "dt": dt}
    resets = {spec["reset"] for spec in header["layers"] if spec["spiking"]} - {"zero"}
    if len(resets) == 1:  # also where other importers might look: NIR itself cannot say it
        metadata["reset"] = resets.pop()
    return nir.NIRGraph(nodes=nodes, edges=list(zip(chain[:-1], chain[1:])), metadata=metadata)


def _neuron_shape(layer: CompiledLayer) -> list[int]:
    """A layer's neurons as NIR shapes them: (n,) dense, (C, H, W) for a convolution."""
    g = layer.conv
    return [layer.n_out] if g is None else [g.out_channels, g.out_height, g.out_width]


def _kernel(layer: CompiledLayer) -> np.ndarray:
    """A convolution's kernel matrix as torch's (out, in, k, k)."""
    g = layer.conv
    return layer.weights.reshape(g.kernel, g.kernel, g.in_channels, g.out_channels).transpose(3, 2, 0, 1)


def _channel_first_columns(layer: CompiledLayer, previous) -> np.ndarray:
    """A dense layer's (out, in) weight with its inputs in channel-first order after a convolution."""
    if previous is None:
        return layer.weights.T
    return layer.weights[channel_first_order(previous.out_channels, previous.out_height, previous.out_width)].T


def write_nir(net: CompiledNetwork, path: str | Path, *, dt: float = SNNTORCH_DT) -> Path:
    """The network's graph written as a .nir file, whole or not at all."""
    return write_graph(to_nir(net, dt=dt), path)


def write_graph(graph, path: str | Path) -> Path:
    """A nir.NIRGraph written as a .nir file, whole or not at all."""
    import nir

    buffer = io.BytesIO()
    nir.write(buffer, graph)
    return write_atomically(path, buffer.getvalue())


def from_nir(graph) -> CompiledNetwork:
    """The compiled network a spikefab-exported graph holds, exactly; the graph's numbers must agree
    with its header (a graph edited after export is refused, naming what differs)."""
    raw = (getattr(graph, "metadata", None) or {}).get(METADATA_KEY)
    if raw is None:
        raise CompiledNetworkError("this NIR graph was not written by spikefab's export (no compiled-network "
                                   "header): import it with `spikefab run --nir` to train-free quantize it")
    header = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    arrays = {}
    for k, spec in enumerate(header.get("layers", [])):
        affine, neuron = graph.nodes.get(f"affine{k}"), graph.nodes.get(f"neuron{k}")
        if affine is None or neuron is None:
            raise CompiledNetworkError(f"the graph has no affine{k} / neuron{k} node its header describes")
        weight, bias = np.asarray(affine.weight), np.asarray(affine.bias)
        if not (np.all(weight == np.round(weight)) and np.all(bias == np.round(bias))):
            raise CompiledNetworkError(f"affine{k} holds non-integer weights or biases: the graph was changed "
                                       f"after export")
        arrays[f"weights_{k}"], arrays[f"bias_{k}"] = _contract_weights(header, k, weight), bias.astype(np.int64)
        if spec.get("spiking") and not np.all(np.asarray(neuron.v_threshold) == spec.get("threshold")):
            raise CompiledNetworkError(f"neuron{k}'s v_threshold differs from the header's threshold "
                                       f"{spec.get('threshold')}: the graph was changed after export")
    return CompiledNetwork.from_parts(header, arrays, source="the NIR graph's spikefab header")


def _contract_weights(header: dict, k: int, weight: np.ndarray) -> np.ndarray:
    """Layer k's node weight back in the contract's form: the kernel matrix of a convolution, the
    (n_in, n_out) matrix in channel-last input order of a dense layer."""
    conv = header["layers"][k].get("conv")
    if conv is not None:
        if weight.ndim != 4:
            raise CompiledNetworkError(f"affine{k} should hold a convolution kernel: the graph was changed after export")
        return weight.transpose(2, 3, 1, 0).reshape(-1, weight.shape[0]).astype(np.int64)
    previous = header["layers"][k - 1].get("conv") if k else None
    if previous is None:
        return weight.T.astype(np.int64)
    g = ConvGeometry(**previous)
    order = channel_first_order(g.out_channels, g.out_height, g.out_width)
    if weight.shape[1] != order.size:
        raise CompiledNetworkError(f"affine{k} takes {weight.shape[1]} inputs, not the {order.size} its header says")
    matrix = np.empty((order.size, weight.shape[0]), dtype=np.int64)
    matrix[order] = weight.T
    return matrix
