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


def _is_dict(hint: Any) -> bool:
    return any(typing.get_origin(h) is dict for h in (hint, *typing.get_args(hint)))


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
    """ReportFigure(('energy', 'images'), MEASURED) from `lambda r: r.energy.images`."""
    path = read(_PathRecorder())._path
    cls: type | None = RunReport
    kind = None
    for k, part in enumerate(path):
        if cls is None:
            raise ValueError(f"{'.'.join(path)}: {'.'.join(path[:k])} has no fields")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            raise ValueError(f"{'.'.join(path)}: {cls.__name__} has no field {part!r}")
        hint = typing.get_type_hints(cls)[part]
        kind = kind_of(fields[part]) or kind
        if _is_dict(hint) and k + 1 < len(path):
            # A key of a dict: the rest of the path is inside its values.
            value_hint = next(typing.get_args(h)[1] for h in (hint, *typing.get_args(hint))
                              if typing.get_origin(h) is dict)
            path_rest = path[k + 2:]
            cls = _dataclass_of(value_hint)
            for part2 in path_rest:
                fields = {f.name: f for f in dataclasses.fields(cls)}
                if part2 not in fields:
                    raise ValueError(f"{'.'.join(path)}: {cls.__name__} has no field {part2!r}")
                kind = kind_of(fields[part2]) or kind
                cls = _dataclass_of(typing.get_type_hints(cls)[part2])
            break
        cls = _dataclass_of(hint)
    return ReportFigure(path, kind)
