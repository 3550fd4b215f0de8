"""Frozen dataclasses to JSON and back, by their type hints: how typed configs, step metrics and
reports are written to disk and read again (a cached step's metrics come back as the same class).

Supported field types: bool, int, float, str, None, enums, paths, nested dataclasses, tuple[X, ...],
list[X], dict[str, X] and unions with None. Anything else is a programming error, raised at once."""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Field metadata for a setting that changes how fast a step runs, never what it writes (e.g. how many
# simulator processes share the work): left out of the step's description, so changing it reuses the step.
SPEED_ONLY = {"speed_only": True}


def to_jsonable(value: Any, *, with_type: bool = True) -> Any:
    """Plain JSON: dataclasses by field (with their class name unless with_type is False; without
    SPEED_ONLY fields), enums by value, paths as text, NaN as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_jsonable(getattr(value, f.name), with_type=with_type) for f in dataclasses.fields(value)
                  if not f.metadata.get("speed_only")}
        return {"type": type(value).__name__, **fields} if with_type else fields
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, with_type=with_type) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, with_type=with_type) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(cls: type[T], data: Any) -> T:
    """The value of type `cls` that to_jsonable wrote as `data`; a mismatch raises TypeError."""
    return _decode(cls, data)


def _decode(hint: Any, data: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _decode(option, data)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise TypeError(f"{data!r} fits none of {hint}: {'; '.join(errors)}")
    if hint is Any:
        return data
    if dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise TypeError(f"{hint.__name__} needs an object, not {data!r}")
        hints = _hints(hint)
        values = {f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(hint)
                  if f.init and f.name in data}
        return hint(**values)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if origin in (tuple, list):
        if not isinstance(data, list):
            raise TypeError(f"{hint} needs a list, not {data!r}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return tuple(_decode(a, d) for a, d in zip(args, data, strict=True))
        items = [_decode(args[0], d) for d in data]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError(f"{hint} needs an object, not {data!r}")
        return {k: _decode(args[1], v) for k, v in data.items()}
    if hint is float:
        if data is None:  # a NaN written as null
            return math.nan
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"a float, not {data!r}")
        return float(data)
    if hint is Path:
        return Path(data)
    if hint in (int, str, bool):
        if type(data) is not hint:
            raise TypeError(f"a {hint.__name__}, not {data!r}")
        return data
    if hint is type(None):
        if data is not None:
            raise TypeError(f"null, not {data!r}")
        return None
    raise TypeError(f"cannot decode type {hint}")
