"""Area, access energy and timing of the SRAM macros: a stated first-order model, because no SRAM
compiler is available offline (../shared/TOOLCHAIN.md). Every constant is here with its source; the
report names the model (`MODEL_DESCRIPTION`).

Area per bit: a 6T bit cell of 171 F^2 (Intel's 45 nm cell, 0.346 um^2: Mistry et al., IEDM 2007)
at an array efficiency of 70% (assumed; decoders, sense amplifiers and I/O take the rest), with F
the library's feature size.

Energy per access: Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm at 0.9 V: reading 64
bits costs 10 pJ from an 8 KB SRAM, 20 pJ from 32 KB and 100 pJ from 1 MB. A power law through these
three points (least squares in log-log) gives the energy of a 64-bit read at any capacity (outside
8 KB-1 MB it is an extrapolation); a read of W bits costs W/64 of it; a write costs the same as a read
(assumed). The energy is scaled from 45 nm / 0.9 V to the library's node and supply by the rule of
flows/technology_scaling.py (C proportional to L, E = C V^2).

Leakage, from the library itself: its smallest inverter's cell_leakage_power (OSU 0.18 um INVX1:
0.0222 nW) stands for one inverter's worth of off-current. A 6T bit cell is its cross-coupled pair,
2 inverters (the access transistors' off-current left out); the periphery is assumed at 8 inverters
per column (precharge, sense amplifier, write driver, column multiplexer) and 2 per row (word-line
driver). The periphery term is what banking adds: every bank has its own columns. Leakage power x
the inference's simulated time is the leakage energy; it is not scaled to other nodes.

Timing, for OpenSTA (a generated liberty cell per macro): clock-to-read-data 0.6 ns and input setup
0.1 ns at 45 nm (assumed, of the order CACTI gives for 8-32 KB arrays), scaled in proportion to L.
Input pins load their nets like a minimum-size gate input (INPUT_PIN_CAPACITANCE_PF, assumed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from hw.sram_macro import SramMacroShape
from hw.verilog import sram_models_verilog
from flows.eda.liberty_library import LibertyData, LibraryError
from flows.engine.figures import modelled, setting
from flows.engine.typed_json import from_jsonable, to_jsonable

BITCELL_F2 = 171.0
ARRAY_EFFICIENCY = 0.7
HOROWITZ_NM, HOROWITZ_V = 45.0, 0.9
HOROWITZ_READ_64_BITS_PJ = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}  # bytes -> pJ
WRITE_OVER_READ = 1.0
ACCESS_NS_AT_45NM = 0.6
SETUP_NS_AT_45NM = 0.1
INPUT_PIN_CAPACITANCE_PF = 0.005
LEAKING_INVERTERS_PER_BIT = 2
LEAKING_INVERTERS_PER_COLUMN = 8
LEAKING_INVERTERS_PER_ROW = 2

MODEL_DESCRIPTION = (
    "SRAM macros (black boxes in synthesis): area 171 F^2 per bit (Intel 45 nm 6T cell) / 0.7 array efficiency; "
    "read energy per 64 bits from Horowitz ISSCC 2014 (45 nm, 0.9 V: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; power "
    "law in capacity), x width/64, write = read, scaled to the library's node by C ~ L, E = C V^2; accesses from "
    "the reference's exact counts; leakage (2 x bits + 8 x columns + 2 x rows) x the library's smallest inverter's leakage; access 0.6 ns and setup 0.1 ns at 45 nm, ~ L")


def _power_law() -> tuple[float, float]:
    """(a, b) with read_64_pj = a * bytes^b, least squares in log-log through Horowitz's points."""
    xs = [math.log(size) for size in HOROWITZ_READ_64_BITS_PJ]
    ys = [math.log(pj) for pj in HOROWITZ_READ_64_BITS_PJ.values()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - b * mx), b


def area_um2(shape: SramMacroShape, *, feature_nm: float) -> float:
    feature_um = feature_nm / 1000.0
    return shape.bits * BITCELL_F2 * feature_um ** 2 / ARRAY_EFFICIENCY


def read_energy_pj(shape: SramMacroShape, *, feature_nm: float, supply_v: float) -> float:
    """One read of a word, at the library's node and supply."""
    a, b = _power_law()
    at_45nm = a * (shape.bits / 8) ** b * shape.width / 64
    return at_45nm * (feature_nm / HOROWITZ_NM) * (supply_v / HOROWITZ_V) ** 2


def leakage_nw(shape: SramMacroShape, *, inverter_leakage_nw: float) -> float:
    """The macro's leakage power: its bit cells and periphery in inverter equivalents."""
    inverters = (LEAKING_INVERTERS_PER_BIT * shape.bits + LEAKING_INVERTERS_PER_COLUMN * shape.width
                 + LEAKING_INVERTERS_PER_ROW * shape.depth)
    return inverters * inverter_leakage_nw


def inverter_leakage_nw(liberty: LibertyData) -> float:
    """The leakage of the library's smallest inverter (a cell named INV*): the macro model's unit."""
    inverters = [cell for name, cell in liberty.cells.items() if name.upper().startswith("INV")]
    if not inverters:
        raise LibraryError(f"{liberty.path} has no inverter cell (INV*): the SRAM macro model takes its leakage "
                           "unit from one; use a library with an inverter")
    return min(inverters, key=lambda cell: cell.area_um2).leakage_nw


def write_energy_pj(shape: SramMacroShape, *, feature_nm: float, supply_v: float) -> float:
    return WRITE_OVER_READ * read_energy_pj(shape, feature_nm=feature_nm, supply_v=supply_v)


def _port_widths(shape: SramMacroShape) -> dict[str, tuple[str, int]]:
    """Every port of the macro's module: (direction, width)."""
    ports = {"clk": ("input", 1), "rst": ("input", 1), "read_en": ("input", 1),
             "read_addr": ("input", shape.address_bits), "read_data": ("output", shape.width)}
    if shape.writable:
        ports |= {"write_en": ("input", 1), "write_addr": ("input", shape.address_bits),
                  "write_data": ("input", shape.width)}
    return {name: port for name, port in ports.items() if port[1] > 0}


def liberty_text(shapes: list[SramMacroShape], *, feature_nm: float, supply_v: float) -> str:
    """A liberty library with one cell per macro, for OpenSTA: area, pins, the clock-to-data arc of the
    read port and setup checks of the inputs."""
    scale = feature_nm / HOROWITZ_NM
    access, setup = ACCESS_NS_AT_45NM * scale, SETUP_NS_AT_45NM * scale
    widths = sorted({width for shape in shapes for _, width in _port_widths(shape).values() if width > 1})
    lines = [
        "library (spikefab_sram_macros) {",
        "  delay_model : table_lookup;",
        '  time_unit : "1ns";', '  voltage_unit : "1V";', '  current_unit : "1uA";',
        '  leakage_power_unit : "1nW";', "  capacitive_load_unit (1, pf);",
        f"  nom_voltage : {supply_v:g};", "  nom_temperature : 25;", "  nom_process : 1;",
        # The measurement thresholds of the OSU liberties, which OpenSTA requires of every library.
        *(f"  {kind}_threshold_pct_{edge} : {pct};" for kind, pct in
          (("input", 50), ("output", 50), ("slew_lower", 20), ("slew_upper", 80)) for edge in ("rise", "fall")),
    ]
    for width in widths:
        lines.append(f"  type (bus{width}) {{ base_type : array; data_type : bit; bit_width : {width}; "
                     f"bit_from : {width - 1}; bit_to : 0; downto : true; }}")
    for shape in shapes:
        lines += [f"  cell ({shape.name}) {{", f"    area : {area_um2(shape, feature_nm=feature_nm):.3f};",
                  "    dont_use : true;", "    dont_touch : true;"]
        for name, (direction, width) in _port_widths(shape).items():
            kind = f"bus ({name}) {{ bus_type : bus{width};" if width > 1 else f"pin ({name}) {{"
            body = [f"direction : {direction};"]
            if name == "clk":
                body += [f"capacitance : {INPUT_PIN_CAPACITANCE_PF};", "clock : true;"]
            elif direction == "input":
                body += [f"capacitance : {INPUT_PIN_CAPACITANCE_PF};"]
                if name != "rst":
                    body += [f'timing () {{ related_pin : "clk"; timing_type : setup_rising; '
                             f'rise_constraint (scalar) {{ values ("{setup:.4f}"); }} '
                             f'fall_constraint (scalar) {{ values ("{setup:.4f}"); }} }}']
            else:
                body += [f'timing () {{ related_pin : "clk"; timing_type : rising_edge; '
                         f'cell_rise (scalar) {{ values ("{access:.4f}"); }} cell_fall (scalar) {{ values ("{access:.4f}"); }} '
                         f'rise_transition (scalar) {{ values ("0.1"); }} fall_transition (scalar) {{ values ("0.1"); }} }}']
            lines.append(f"    {kind} " + " ".join(body) + " }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class MacroCost:
    """One macro's shape and what the model says it costs."""

    width: int = setting("bits per word")
    depth: int = setting("words")
    bits: int = setting("width x depth")
    area_um2: float = modelled("um^2", "171 F^2 per bit at 70% array efficiency")
    read_pj: float = modelled("pJ", "per read: Horowitz's SRAM energies, power law in capacity, scaled to the node")
    write_pj: float = modelled("pJ", "per write: taken equal to a read")
    leakage_nw: float = modelled("nW", "bit cells and periphery in inverter equivalents x the library's inverter leakage")


@dataclass(frozen=True)
class MacroSet:
    """What synthesis leaves for timing and power about the macros: their cells' liberty, their
    behavioural models (for the gate-level simulation) and each macro's costs. Empty when the
    memories are flip-flops."""

    macros: dict[str, MacroCost]     # by macro name
    liberty: Path | None
    models: Path | None

    @property
    def area_um2(self) -> float:
        return sum(m.area_um2 for m in self.macros.values())

    @property
    def leakage_nw(self) -> float:
        return sum(m.leakage_nw for m in self.macros.values())

    def save(self, path: Path) -> Path:
        """Beside the liberty and the models, which it names relative to itself (a step's folder moves
        when the step completes)."""
        path.write_text(json.dumps({"model": MODEL_DESCRIPTION if self.macros else None, "macros": to_jsonable(self.macros, with_type=False),
                                    "liberty": self.liberty and self.liberty.name,
                                    "models": self.models and self.models.name}, indent=2))
        return path

    @staticmethod
    def load(path: Path) -> "MacroSet":
        path = Path(path)
        data = json.loads(path.read_text())
        return MacroSet(macros=from_jsonable(dict[str, MacroCost], data["macros"]), liberty=data["liberty"] and path.parent / data["liberty"],
                        models=data["models"] and path.parent / data["models"])


def describe_macros(shapes: list[SramMacroShape], *, feature_nm: float, supply_v: float, inverter_leakage_nw: float,
                    folder: Path) -> MacroSet:
    """Write the macros' liberty and behavioural models into `folder` and cost each macro."""
    if not shapes:
        return MacroSet(macros={}, liberty=None, models=None)
    liberty = folder / "sram_macros.lib"
    liberty.write_text(liberty_text(shapes, feature_nm=feature_nm, supply_v=supply_v))
    models = folder / "sram_models.v"
    models.write_text(sram_models_verilog(shapes))
    macros = {shape.name: MacroCost(width=shape.width, depth=shape.depth, bits=shape.bits,
                                    area_um2=area_um2(shape, feature_nm=feature_nm),
                                    read_pj=read_energy_pj(shape, feature_nm=feature_nm, supply_v=supply_v),
                                    write_pj=write_energy_pj(shape, feature_nm=feature_nm, supply_v=supply_v),
                                    leakage_nw=leakage_nw(shape, inverter_leakage_nw=inverter_leakage_nw))
              for shape in shapes}
    return MacroSet(macros=macros, liberty=liberty, models=models)
