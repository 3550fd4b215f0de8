"""The command line's flags for the core's architecture, one entry per CoreArchitecture field, with
the defaults of the dataclasses themselves: adding a core parameter means a field in
model/architecture.py, its use in hw/, and one entry here."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from model.architecture import CoreArchitecture, MemoryStyle, RateEncoder

DEFAULT = CoreArchitecture(trace=False)
DEFAULT_ENCODER = RateEncoder()


@dataclass(frozen=True)
class ArchitectureFlag:
    flag: str
    field: str                       # the CoreArchitecture field it sets
    add: Callable[[argparse.ArgumentParser, bool], None]
    value: Callable[[argparse.Namespace], Any]


def _lanes(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--lanes", type=int, default=[DEFAULT.lanes] if sweep else DEFAULT.lanes,
                   **({"nargs": "+"} if sweep else {}),
                   help="neurons updated per cycle (one membrane word holds `lanes` neurons)")


def _encoder(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--encoder-lanes", type=int, default=None,
                   help="build the on-chip rate encoder with this many pixel lanes: the host sends 8-bit "
                        "intensities once per inference instead of spike events every timestep")
    p.add_argument("--encoder-seed", type=int, default=DEFAULT_ENCODER.seed)


def _memories(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--memories", choices=[m.value for m in MemoryStyle],
                   default=[DEFAULT.memories.value] if sweep else DEFAULT.memories.value, **({"nargs": "+"} if sweep else {}),
                   help="layer memories synthesized as flip-flops, kept as SRAM macros (black boxes with the "
                        "area, per-access energy and leakage model of flows/energy/sram_macros.py; behavioural models "
                        "in simulation), or sram-weights: weights and biases as macros, membranes as flip-flops")


def _bank_words(text: str) -> int | None:
    return None if text == "none" else int(text)


def _weight_banks(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--weight-bank-words", type=_bank_words,
                   default=[DEFAULT.weight_bank_words] if sweep else DEFAULT.weight_bank_words,
                   **({"nargs": "+"} if sweep else {}),
                   help="with --memories sram-macros: split each layer's weight memory into banks of this many "
                        "words (a power of two), one bank read per access (cheaper reads, more macros); 'none' "
                        "(the default): one macro")


def _spike_batch(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--spike-batch", type=int, default=[DEFAULT.spike_batch] if sweep else DEFAULT.spike_batch,
                   **({"nargs": "+"} if sweep else {}),
                   help="a fully connected layer takes up to this many input spikes into a buffer, then reads and "
                        "writes each membrane word once for all of them (fewer membrane accesses, one more cycle "
                        "per spike); 1 (the default): no buffer, every spike updates every word")


def _operand_isolation(p: argparse.ArgumentParser, sweep: bool) -> None:
    p.add_argument("--operand-isolation", action=argparse.BooleanOptionalAction, default=DEFAULT.operand_isolation,
                   help="gate the inputs of the lanes' update logic to zero outside update cycles, so integrating "
                        "does not toggle it (an AND gate per membrane bit)")


FLAGS = (
    ArchitectureFlag("--lanes", "lanes", _lanes, lambda a: a.lanes),
    ArchitectureFlag("--encoder-lanes", "encoder", _encoder,
                     lambda a: None if a.encoder_lanes is None else RateEncoder(lanes=a.encoder_lanes,
                                                                                seed=a.encoder_seed)),
    ArchitectureFlag("--memories", "memories", _memories, lambda a: MemoryStyle(a.memories)),
    ArchitectureFlag("--weight-bank-words", "weight_bank_words", _weight_banks, lambda a: a.weight_bank_words),
    ArchitectureFlag("--spike-batch", "spike_batch", _spike_batch, lambda a: a.spike_batch),
    ArchitectureFlag("--operand-isolation", "operand_isolation", _operand_isolation, lambda a: a.operand_isolation),
)
# Every field but the trace port (verification adds it, synthesis leaves it out) has its flag.
assert {f.field for f in FLAGS} == {f.name for f in dataclasses.fields(CoreArchitecture)} - {"trace"}


def add_architecture_flags(parser: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    for flag in FLAGS:
        flag.add(parser, sweep)


def architecture_from(args: argparse.Namespace, **overrides: Any) -> CoreArchitecture:
    """The architecture the flags ask for (`overrides`: a sweep point's values), without the trace port."""
    values = {flag.field: flag.value(args) for flag in FLAGS if flag.field not in overrides}
    return CoreArchitecture(trace=False, **values, **overrides)
