"""What a figure is: each field of a metrics or report dataclass says its unit, what it means and how
it was made (measured, modelled, estimated, or a setting), so the report schema documents itself
(flows/report/schema_doc.py) and a table never mixes the three kinds of figure."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class Kind(enum.Enum):
    MEASURED = "measured"    # counted or simulated on our data, RTL or netlist (accuracy, cycles, gate-level energy)
    MODELLED = "modelled"    # from a stated model (the SRAM macro model, the analytical cross-check)
    ESTIMATED = "estimated"  # scaled to another process node: a first-order estimate
    SETTING = "setting"      # what was asked for or built, not a figure


def figure(kind: Kind, unit: str, meaning: str, *, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field that carries its kind, unit ('' for a count or a name) and meaning."""
    metadata = {"kind": kind, "unit": unit, "meaning": meaning}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def measured(unit: str, meaning: str, **kw: Any) -> Any:
    return figure(Kind.MEASURED, unit, meaning, **kw)


def modelled(unit: str, meaning: str, **kw: Any) -> Any:
    return figure(Kind.MODELLED, unit, meaning, **kw)


def estimated(unit: str, meaning: str, **kw: Any) -> Any:
    return figure(Kind.ESTIMATED, unit, meaning, **kw)


def setting(meaning: str, unit: str = "", **kw: Any) -> Any:
    return figure(Kind.SETTING, unit, meaning, **kw)


def kind_of(field: dataclasses.Field) -> Kind | None:
    return field.metadata.get("kind")


def shown(value: Any) -> str:
    """A figure as a table cell: four significant digits, lists and intervals item by item."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)
