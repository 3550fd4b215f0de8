"""A figure of the RunReport named by an attribute chain written as Python (`lambda r: r.energy.images`),
checked against the report's classes when it is written, so a misspelt figure fails at import, and
carrying the kind (measured, modelled, estimated, setting) its field declares."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Callable

from flows.engine.figures import Kind, kind_of
from flows.report.schema import RunReport


class _PathRecorder:
    """Stands in for a report and remembers which attributes and keys were asked of it."""

    def __init__(self, path: tuple[str, ...] = ()):
        self._path = path

    def __getattr__(self, name: str) -> "_PathRecorder":
        if name.startswith("__"):
            raise AttributeError(name)
        return _PathRecorder(self._path + (name,))

    def __getitem__(self, key: str) -> "_PathRecorder":
        return _PathRecorder(self._path + (key,))


def _dataclass_of(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _dict_values(hint: Any) -> Any:
    """The value type of a dict hint (or of a dict within an optional), else None."""
    for h in (hint, *typing.get_args(hint)):
        if typing.get_origin(h) is dict:
            return typing.get_args(h)[1]
    return None


@dataclass(frozen=True)
class ReportFigure:
    path: tuple[str, ...]
    kind: Kind

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def read(self, report: RunReport) -> Any:
        """The figure's value, or None where its section is absent (a shorter flow)."""
        value: Any = report
        for part in self.path:
            if value is None:
                return None
            value = value.get(part) if isinstance(value, dict) else getattr(value, part)
        return value


def report_figure(read: Callable[[Any], Any]) -> ReportFigure:
    """ReportFigure(('energy', 'images'), MEASURED) from `lambda r: r.energy.images`. A part after a
    dict-typed field is one of its keys; the walk goes on in the dict's value type."""
    path = read(_PathRecorder())._path
    hint: Any = RunReport
    kind = None
    for part in path:
        values = _dict_values(hint)
        if values is not None:
            hint = values  # `part` is a key
            continue
        cls = _dataclass_of(hint)
        fields = {f.name: f for f in dataclasses.fields(cls)} if cls is not None else {}
        if part not in fields:
            owner = cls.__name__ if cls is not None else str(hint)
            raise ValueError(f"{'.'.join(path)}: {owner} has no field {part!r}")
        kind = kind_of(fields[part]) or kind
        hint = typing.get_type_hints(cls)[part]
    return ReportFigure(path, kind)
