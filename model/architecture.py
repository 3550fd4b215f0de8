"""Architecture parameters of the core, shared by hw/ (which builds it) and sim/ (which predicts its
cycles). numpy-free and torch-free, like compiled.py."""

from __future__ import annotations

from dataclasses import dataclass

from .compiled import CompiledNetwork


@dataclass(frozen=True, kw_only=True)
class CoreArchitecture:
    """lanes: neurons updated per cycle (one membrane word holds `lanes` neurons; a layer with fewer
    neurons uses one word of n_out lanes). trace: build the spike trace port (for verification)."""

    lanes: int = 8
    trace: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.lanes, int) or isinstance(self.lanes, bool):
            raise TypeError(f"lanes must be an int, not {self.lanes!r}")
        if not 1 <= self.lanes <= 4096:
            raise ValueError(f"lanes must be 1..4096, not {self.lanes}")
        if not isinstance(self.trace, bool):
            raise TypeError(f"trace must be a bool, not {self.trace!r}")

    def lanes_of(self, n_out: int) -> int:
        return min(self.lanes, n_out)

    def words_of(self, n_out: int) -> int:
        """Membrane words of a layer: ceil(n_out / lanes)."""
        return -(-n_out // self.lanes_of(n_out))

    def words(self, net: CompiledNetwork) -> tuple[int, ...]:
        return tuple(self.words_of(layer.n_out) for layer in net.layers)
