"""The standard-cell libraries spikefab maps to, and what it reads from them (area, leakage, pin
capacitances, internal-energy tables), through liberty-parser."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.tools import tcl_path


class LibraryError(RuntimeError):
    """A liberty file that is missing or lacks what the flow needs."""


class CellLibrary(enum.Enum):
    """Open liberty files from Debian's qflow-tech-osu* packages (typical corner)."""

    OSU018 = "osu018"
    OSU035 = "osu035"
    OSU050 = "osu050"

    @property
    def _stem(self) -> Path:
        # The 0.5 um package names its files osu05_*, the others after the package.
        name = "osu05" if self is CellLibrary.OSU050 else self.value
        return Path(f"/usr/share/qflow/tech/{self.value}/{name}_stdcells")

    @property
    def liberty_path(self) -> Path:
        return self._stem.with_suffix(".lib")

    @property
    def cell_models_path(self) -> Path:
        return self._stem.with_suffix(".v")

    @property
    def feature_nm(self) -> int:
        return {"osu018": 180, "osu035": 350, "osu050": 500}[self.value]

    @property
    def package(self) -> str:
        return f"qflow-tech-{self.value}"

    def sta_read_commands(self, macro_liberty: Path | None = None) -> str:
        """OpenSTA's read_liberty lines: this library, and the SRAM macros' generated cells if any."""
        paths = [self.require()] + ([Path(macro_liberty)] if macro_liberty is not None else [])
        return "\n".join(f"read_liberty {tcl_path(path)}" for path in paths)

    def require(self) -> Path:
        if not self.liberty_path.is_file():
            raise LibraryError(f"liberty file {self.liberty_path} not found: install Debian's {self.package} "
                               "(make setup installs it)")
        return self.liberty_path


@dataclass(frozen=True)
class EnergyTable:
    """An internal-energy look-up table: rows index_1 (output load, pF), columns index_2 (input
    transition, ns); a 1-D table has index_1 as transition only."""

    index_1: np.ndarray
    index_2: np.ndarray | None
    values: np.ndarray

    def at(self, *, load_pf: float, transition_ns: float) -> float:
        if self.index_2 is None:
            return float(np.interp(transition_ns, self.index_1, self.values.ravel()))
        by_load = np.array([np.interp(transition_ns, self.index_2, row) for row in self.values])
        return float(np.interp(load_pf, self.index_1, by_load))


@dataclass(frozen=True)
class PinData:
    direction: str
    capacitance_pf: float
    rise_energy: tuple[EnergyTable, ...]  # one per related pin (output pins) or one (input pins)
    fall_energy: tuple[EnergyTable, ...]


@dataclass(frozen=True)
class CellData:
    name: str
    area_um2: float
    leakage_nw: float
    pins: dict[str, PinData]


@dataclass(frozen=True)
class LibertyData:
    path: Path
    voltage_v: float
    cells: dict[str, CellData]


def _table(group) -> EnergyTable:
    values = np.atleast_2d(np.asarray(group.get_array("values"), dtype=float))
    index_1 = np.asarray(group.get_array("index_1"), dtype=float).ravel()
    try:
        index_2 = np.asarray(group.get_array("index_2"), dtype=float).ravel()
    except Exception:  # a 1-D table has no index_2
        index_2 = None
    return EnergyTable(index_1=index_1, index_2=index_2, values=values)


@lru_cache(maxsize=8)
def read_liberty(path: Path) -> LibertyData:
    from liberty.parser import parse_liberty

    try:
        library = parse_liberty(Path(path).read_text())
    except OSError as exc:
        raise LibraryError(f"cannot read liberty file {path}: {exc.strerror}") from exc
    voltage = float(library["nom_voltage"])
    cells = {}
    for cell in library.get_groups("cell"):
        pins = {}
        for pin in cell.get_groups("pin"):
            rise, fall = [], []
            for power in pin.get_groups("internal_power"):
                for group in power.groups:
                    if group.group_name == "rise_power":
                        rise.append(_table(group))
                    elif group.group_name == "fall_power":
                        fall.append(_table(group))
            pins[str(pin.args[0]).strip('"')] = PinData(
                direction=str(pin["direction"]), capacitance_pf=float(pin["capacitance"] or 0.0),
                rise_energy=tuple(rise), fall_energy=tuple(fall))
        name = str(cell.args[0]).strip('"')
        cells[name] = CellData(name=name, area_um2=float(cell["area"]),
                               leakage_nw=float(cell["cell_leakage_power"] or 0.0), pins=pins)
    return LibertyData(path=Path(path), voltage_v=voltage, cells=cells)
