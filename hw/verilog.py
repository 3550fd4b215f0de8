"""Verilog for a compiled network: the only place the core is turned into HDL text."""

from __future__ import annotations

import os
from pathlib import Path

from amaranth.back import verilog

from model.architecture import CoreArchitecture
from model.atomic_file import write_atomically
from model.compiled import CompiledNetwork

from .core import SpikingCore, core_sram_macros
from .sram_macro import SramMacroModel, SramMacroShape

TOP_NAME = "spikefab_core"


def core_verilog(network: CompiledNetwork, architecture: CoreArchitecture, *, name: str = TOP_NAME) -> str:
    """The core's Verilog; with SRAM macros, followed by each macro's behavioural model (a module of
    the macro's name), which synthesis turns back into a black box (flows/synthesis.py)."""
    core = SpikingCore(network=network, architecture=architecture)
    return "\n".join([verilog.convert(core, name=name, emit_src=False),
                      sram_models_verilog(core_sram_macros(network, architecture))])


def sram_models_verilog(shapes: list[SramMacroShape]) -> str:
    """The macros' behavioural models, one module per macro (simulation only; empty without macros)."""
    return "\n".join(verilog.convert(SramMacroModel(shape), name=shape.name, emit_src=False) for shape in shapes)


def write_core_verilog(network: CompiledNetwork, architecture: CoreArchitecture, path: str | os.PathLike,
                       *, name: str = TOP_NAME) -> Path:
    """Write the core's Verilog to `path` atomically."""
    return write_atomically(path, core_verilog(network, architecture, name=name))
