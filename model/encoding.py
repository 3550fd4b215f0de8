"""Input encoders that turn intensities in [0, 1] into spike frames (numpy; shared by the flow's
reference and RTL runs so both see the very same spikes)."""

from __future__ import annotations

import numpy as np


def rate_encode(x: np.ndarray, timesteps: int, seed: int) -> np.ndarray:
    """Bernoulli rate code: input i spikes at each step with probability x[i].

    x: (B, n) in [0, 1]. Returns (B, timesteps, n) bool. The same seed gives the same spikes.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"rate_encode takes (images, features), not shape {x.shape}")
    if np.any(x < 0) or np.any(x > 1):
        raise ValueError("rate_encode takes intensities in [0, 1]")
    if not isinstance(timesteps, int) or timesteps < 1:
        raise ValueError(f"timesteps must be a positive int, not {timesteps!r}")
    rng = np.random.default_rng(seed)
    return rng.random((x.shape[0], timesteps, x.shape[1])) < x[:, None, :]
