"""lif_sequence is the lif_step loop under autograd: the same spikes and the same gradients (for the
currents and for a learnable decay) in every integration, reset and leak mode."""

import itertools

import pytest
import torch

from model.compiled import Integration, Reset
from model.lif_sequence import lif_sequence
from model.neuron import LIFParameters, lif_step
from model.surrogate import ArcTan, FastSigmoid, StraightThrough, Triangle

T, BATCH, NEURONS = 6, 5, 7


def looped(currents, p, integer):
    v = torch.zeros(BATCH, NEURONS, dtype=currents.dtype)
    spikes, s = [], None
    for t in range(T):
        s, v, _ = lif_step(currents if currents.dim() == 2 else currents[:, t], v, p, integer=integer, fired_before=s)
        spikes.append(s)
    return torch.stack(spikes, dim=1)


LEAKS = {"no-leak": {}, "shift-2": {"leak_shift": 2}, "beta-0.9": {"beta": 0.9}, "beta-per-neuron": {"beta": "tensor"}}


# A float decay has no integer form (export maps it to a shift), so it runs in float mode only.
MODES = [pytest.param(integration, reset, leak, integer, constant, seed,
                      id=f"{integration.value}-{reset.value}-{leak}-{'integer' if integer else 'float'}-"
                         f"{'direct-current' if constant else 'frames'}")
         for seed, (integration, reset, leak, integer, constant) in enumerate(itertools.product(
             Integration, Reset, LEAKS, (False, True), (False, True)))
         if not (integer and "beta" in LEAKS[leak])]


@pytest.mark.parametrize("integration, reset, leak, integer, constant_input, seed", MODES)
def test_spikes_and_gradients_equal_autograd_through_lif_step(integration, reset, leak, integer, constant_input, seed):
    generator = torch.Generator().manual_seed(seed)
    threshold = 9.0 if integer else 1.0
    shape = (BATCH, NEURONS) if constant_input else (BATCH, T, NEURONS)
    currents = torch.rand(shape, generator=generator, dtype=torch.float64) * 1.6 - 0.3
    if integer:
        currents = torch.round(currents * 8)
    beta_leaf = None
    neuron = dict(LEAKS[leak])
    if neuron.get("beta") == "tensor":
        beta_leaf = torch.rand(NEURONS, generator=generator, dtype=torch.float64) * 0.5 + 0.45
        neuron["beta"] = beta_leaf.requires_grad_()
    p = LIFParameters(threshold=threshold, integration=integration, reset=reset, spiking=True,
                      surrogate=FastSigmoid(), **{"leak_shift": None, **neuron})
    upstream = torch.randn(BATCH, T, NEURONS, generator=generator, dtype=torch.float64)

    results = []
    for run in (looped, lambda c, q, i: lif_sequence(c, q, timesteps=T, integer=i)):
        leaf = currents.clone().requires_grad_()
        spikes = run(leaf, p, integer)
        (spikes * upstream).sum().backward()
        beta_grad = None
        if beta_leaf is not None:  # autograd leaves no gradient where the decay is never used
            beta_grad = torch.zeros_like(beta_leaf) if beta_leaf.grad is None else beta_leaf.grad.clone()
        results.append((spikes.detach(), leaf.grad.clone(), beta_grad))
        if beta_leaf is not None:
            beta_leaf.grad = None
    (spikes_a, grad_a, beta_a), (spikes_b, grad_b, beta_b) = results
    assert spikes_a.sum() > 0 and spikes_a.sum() < spikes_a.numel(), "the case should fire some neurons, not all"
    assert torch.equal(spikes_a, spikes_b)
    torch.testing.assert_close(grad_b, grad_a, rtol=1e-9, atol=1e-12)
    if beta_leaf is not None:
        torch.testing.assert_close(beta_b, beta_a, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("surrogate", [StraightThrough(), FastSigmoid(), ArcTan(), Triangle()], ids=type)
def test_the_surrogate_object_shapes_the_gradient(surrogate):
    p = LIFParameters(threshold=1.0, leak_shift=None, integration=Integration.DISCONTINUOUS, reset=Reset.SUBTRACT,
                      spiking=True, surrogate=surrogate)
    currents = torch.linspace(-1, 3, BATCH * NEURONS, dtype=torch.float64).reshape(BATCH, NEURONS).requires_grad_()
    lif_sequence(currents, p, timesteps=1, integer=False).sum().backward()
    # Discontinuous, one step: d spike / d current is the surrogate's derivative at (I - 1) / 1.
    torch.testing.assert_close(currents.grad, surrogate.derivative(currents.detach() - 1))


def test_a_float_decay_is_refused_in_integer_mode():
    p = LIFParameters(threshold=4.0, leak_shift=None, beta=0.9, integration=Integration.CONTINUOUS,
                      reset=Reset.SUBTRACT, spiking=True, surrogate=FastSigmoid())
    with pytest.raises(ValueError, match="no integer form"):
        lif_sequence(torch.ones(2, 3), p, timesteps=2, integer=True)


def test_a_decay_given_twice_is_refused():
    with pytest.raises(ValueError, match="not both"):
        LIFParameters(threshold=1.0, leak_shift=3, beta=0.9, integration=Integration.CONTINUOUS,
                      reset=Reset.SUBTRACT, spiking=True, surrogate=FastSigmoid())
