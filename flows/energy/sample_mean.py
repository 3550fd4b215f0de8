"""A mean over a sample of inferences, with its 95% confidence interval (Student's t): how well the
images simulated at gate level pin down the mean energy of an inference."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True, kw_only=True)
class SampleMean:
    mean: float
    count: int
    ci95: tuple[float, float] | None  # None below two samples: no spread to measure

    @classmethod
    def of(cls, values: np.ndarray) -> "SampleMean":
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"a sample mean needs a non-empty 1-D sample, not shape {values.shape}")
        mean = float(values.mean())
        if values.size < 2:
            return cls(mean=mean, count=1, ci95=None)
        half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
        return cls(mean=mean, count=int(values.size), ci95=(mean - half, mean + half))
