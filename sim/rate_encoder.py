"""The bit-exact model of the core's on-chip rate encoder (model/architecture.py, RateEncoder).

Per inference every lane's LFSR starts from its seed. At timestep t the core evaluates the pixel
groups g = 0..G-1 in order; lane p draws once per group (DRAW_STEPS LFSR steps, then the low byte),
and pixel g * lanes + p spikes when that byte is below its intensity. Lanes past the last pixel draw
too. The draws do not depend on the image, so they are computed once and compared with every image.
"""

from __future__ import annotations

import numpy as np

from model.architecture import DRAW_STEPS, INTENSITY_BITS, CoreArchitecture, RateEncoder, lfsr_step
from model.compiled import CompiledNetwork


def encoder_draws(encoder: RateEncoder, n_inputs: int, timesteps: int) -> np.ndarray:
    """(timesteps, n_inputs) draw bytes, in the order the hardware makes them."""
    groups = encoder.groups(n_inputs)
    draws = np.zeros((timesteps, groups, encoder.lanes), dtype=np.int64)
    for lane in range(encoder.lanes):
        state = encoder.lane_seed(lane)
        for t in range(timesteps):
            for g in range(groups):
                for _ in range(DRAW_STEPS):
                    state = lfsr_step(state)
                draws[t, g, lane] = state & ((1 << INTENSITY_BITS) - 1)
    return draws.reshape(timesteps, groups * encoder.lanes)[:, :n_inputs]


def encode_on_chip(encoder: RateEncoder, intensities: np.ndarray, timesteps: int) -> np.ndarray:
    """Spike frames (B, T, n) bool the core draws from 8-bit intensities (B, n)."""
    intensities = np.asarray(intensities)
    if intensities.ndim != 2 or not np.issubdtype(intensities.dtype, np.integer):
        raise ValueError(f"intensities must be a 2-D integer array (images, inputs), not {intensities.dtype} "
                         f"of shape {intensities.shape}")
    if intensities.min(initial=0) < 0 or intensities.max(initial=0) >= 1 << INTENSITY_BITS:
        raise ValueError(f"intensities must be 0..{(1 << INTENSITY_BITS) - 1}")
    draws = encoder_draws(encoder, intensities.shape[1], timesteps)
    return draws[None, :, :] < intensities[:, None, :]


def quantize_intensities(x: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] as the 8-bit values the encoder compares with (1.0 -> 255)."""
    return np.clip(np.rint(np.asarray(x) * ((1 << INTENSITY_BITS) - 1)), 0, (1 << INTENSITY_BITS) - 1).astype(np.int64)


def core_input_spikes(network: CompiledNetwork, architecture: CoreArchitecture, inputs: np.ndarray) -> np.ndarray:
    """The spike frames the core integrates for its inputs: the frames themselves when the host
    sends events, or what the on-chip encoder draws from 8-bit intensities."""
    if architecture.encoder is None:
        return np.asarray(inputs, dtype=bool)
    return encode_on_chip(architecture.encoder, inputs, network.timesteps)
