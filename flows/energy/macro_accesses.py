"""Which memory an SRAM macro of the core holds, and the check that the macro model's access counts
are the accesses the netlist makes.

The macro energy is priced from the reference's access counts (sim/cycles.py, memory_accesses); the
compiled gate-level simulation counts every macro's enabled reads and writes in the mapped netlist.
The two must agree exactly, inference by inference and memory by memory, or the modelled energy
prices accesses the hardware does not make (or misses ones it does)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from flows.eda.gate_level import MacroAccessCounts
from flows.steps.verify import VerificationError
from sim.cycles import MemoryAccesses

# hw/core.py's macro names: sram_layer<k>_<memory>, a banked weight memory's banks _bank<j>.
_MACRO_NAME = re.compile(r"sram_layer(\d+)_(weights|biases|membranes)(?:_bank\d+)?")


def macro_memory(name: str) -> tuple[int, str]:
    """(layer, kind) of the core's macro `name`, kind one of weights, biases, membranes."""
    match = _MACRO_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not one of the core's SRAM macros (sram_layer<k>_weights/biases/membranes)")
    return int(match[1]), match[2]


class MacroAccessMismatch(VerificationError):
    """The netlist's macro accesses differ from the counts the energy model prices (the CLI reports it
    as a failed verification, exit code of a mismatch)."""


def check_macro_accesses(counts: MacroAccessCounts, model: MemoryAccesses, words: list[int], folder: Path) -> None:
    """Raise MacroAccessMismatch unless every memory's reads and writes in each inference's window (and
    the window after the last result) are the model's, shifted by two things the model rightly leaves
    out of any inference's cost or places in its own:
    - the power-on pass that initialises the membranes before the first inference (one bias read and
      one membrane read and write per word), in the first window;
    - a membrane write lands on the clock edge after its operation, so an inference's last
      initialising write, in the layers with the most membrane words (they initialise until the last
      cycle before the result), falls after the result is taken: in the next window, and after the
      last inference nowhere (the simulation ends when the last result is taken)."""
    images = model.weight_reads.shape[0]
    windows = images + 1

    def per_window(values: np.ndarray) -> np.ndarray:
        return np.concatenate([values, [0]]).astype(np.int64)

    first = np.zeros(windows, dtype=np.int64)
    first[0] = 1
    ends_last = np.zeros(windows, dtype=np.int64)
    ends_last[:images] = -1
    ends_last[1:images] += 1  # out of each inference's window into the next one's (none after the last)
    zero = np.zeros(windows, dtype=np.int64)
    measured: dict[tuple[int, str], list[np.ndarray]] = {}
    for name in counts.reads:
        memory = macro_memory(name)
        reads, writes = measured.setdefault(memory, [zero.copy(), zero.copy()])
        reads += counts.reads[name][:windows]
        writes += counts.writes[name][:windows]
    problems = []
    for (layer, kind), (reads, writes) in sorted(measured.items()):
        power_on = first * words[layer]
        shifted = ends_last if words[layer] == max(words) else zero
        expected = {"weights": (per_window(model.weight_reads[:, layer]), zero),
                    "biases": (per_window(model.bias_reads[:, layer]) + power_on, zero),
                    "membranes": (per_window(model.membrane_reads[:, layer]) + power_on,
                                  per_window(model.membrane_writes[:, layer]) + power_on + shifted)}[kind]
        for what, got, want in (("reads", reads, expected[0]), ("writes", writes, expected[1])):
            if not np.array_equal(got, want):
                at = int(np.flatnonzero(got != want)[0])
                window = f"inference {at}" if at < images else "the window after the last result"
                problems.append(f"layer {layer} {kind} {what} in {window}: {int(got[at])} in the netlist, "
                                f"{int(want[at])} in the model")
    if problems:
        raise MacroAccessMismatch("the SRAM macros' accesses in the gate-level simulation differ from the counts the "
                                  "energy model prices (sim/cycles.py memory_accesses): " + "; ".join(problems)
                                  + f"; see {folder}")
