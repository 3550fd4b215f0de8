"""A compiled network as a NIR graph, and back.

The graph is in the core's integer units: each layer an Affine node (the integer weights, out x in,
and biases) and a neuron node; a leak shift k becomes a LIF with tau = dt 2^k (its Euler decay
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
from .compiled import CompiledNetwork, CompiledNetworkError
from .nir_import import SNNTORCH_DT, NirConventions

METADATA_KEY = "spikefab_network"


def to_nir(net: CompiledNetwork, *, dt: float = SNNTORCH_DT):
    """The network as a nir.NIRGraph (write it with nir.write)."""
    import nir

    NirConventions(dt=dt)  # the one check of a time step
    nodes: dict[str, object] = {"input": nir.Input(input_type=np.array([net.n_inputs]))}
    chain = ["input"]
    for k, layer in enumerate(net.layers):
        n = layer.n_out
        ones = np.ones(n)
        nodes[f"affine{k}"] = nir.Affine(weight=layer.weights.T.astype(np.float64), bias=layer.bias.astype(np.float64))
        threshold = ones * float(layer.threshold)
        if not layer.spiking:
            neuron = nir.I(r=ones)
        elif layer.leak_shift is None:
            neuron = nir.IF(r=ones, v_threshold=threshold, v_reset=np.zeros(n))
        else:
            tau = ones * dt * 2.0 ** layer.leak_shift
            neuron = nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(n), v_threshold=threshold, v_reset=np.zeros(n))
        nodes[f"neuron{k}"] = neuron
        chain += [f"affine{k}", f"neuron{k}"]
    nodes["output"] = nir.Output(output_type=np.array([net.layers[-1].n_out]))
    chain.append("output")
    header = net.header()
    metadata = {METADATA_KEY: json.dumps(header), "dt": dt}
    resets = {spec["reset"] for spec in header["layers"] if spec["spiking"]} - {"zero"}
    if len(resets) == 1:  # also where other importers might look: NIR itself cannot say it
        metadata["reset"] = resets.pop()
    return nir.NIRGraph(nodes=nodes, edges=list(zip(chain[:-1], chain[1:])), metadata=metadata)


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
        arrays[f"weights_{k}"], arrays[f"bias_{k}"] = weight.T.astype(np.int64), bias.astype(np.int64)
        if spec.get("spiking") and not np.all(np.asarray(neuron.v_threshold) == spec.get("threshold")):
            raise CompiledNetworkError(f"neuron{k}'s v_threshold differs from the header's threshold "
                                       f"{spec.get('threshold')}: the graph was changed after export")
    return CompiledNetwork.from_parts(header, arrays, source="the NIR graph's spikefab header")
