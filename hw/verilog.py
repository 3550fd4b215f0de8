"""Verilog for a compiled network: the only place the core is turned into HDL text."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from amaranth.back import verilog

from model.architecture import CoreArchitecture
from model.compiled import CompiledNetwork

from .core import SpikingCore
from .sram_macro import SramMacroModel

TOP_NAME = "spikefab_core"


def core_verilog(network: CompiledNetwork, architecture: CoreArchitecture, *, name: str = TOP_NAME) -> str:
    """The core's Verilog; with SRAM macros, followed by each macro's behavioural model (a module of
    the macro's name), which synthesis turns back into a black box (flows/synthesis.py)."""
    core = SpikingCore(network=network, architecture=architecture)
    models = [verilog.convert(SramMacroModel(shape), name=shape.name, emit_src=False) for shape in core.sram_macros()]
    return "\n".join([verilog.convert(core, name=name, emit_src=False), *models])


def write_core_verilog(network: CompiledNetwork, architecture: CoreArchitecture, path: str | os.PathLike,
                       *, name: str = TOP_NAME) -> Path:
    """Write the core's Verilog to `path` atomically."""
    path = Path(path)
    text = core_verilog(network, architecture, name=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
