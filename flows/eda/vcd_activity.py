"""Toggle counts per net bit from a VCD, split into time windows (one per inference)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class Activity:
    """signals[i] = (net name, bit index), the name prefixed by "instance.path/" for a net inside a
    module instance (hierarchical VCDs only); rises/falls: (windows, signals) 0->1 and 1->0 counts;
    window k covers (boundary[k-1], boundary[k]]. Changes from or to x/z are not toggles."""

    signals: list[tuple[str, int]]
    rises: np.ndarray
    falls: np.ndarray
    start_ns: float
    end_ns: float


def _normalise(name: str) -> str:
    return name[1:] if name.startswith("\\") else name


def count_toggles(vcd: Path, boundaries_ns: np.ndarray, *, hierarchical: bool = False) -> Activity:
    """The netlist module's nets (the scope below the testbench); with `hierarchical`, also the nets
    of every module instance inside it."""
    boundaries = np.asarray(boundaries_ns, dtype=float)
    codes: dict[str, list[int]] = {}   # id code -> signal indices, lsb first
    signals: list[tuple[str, int]] = []
    aliases: list[tuple[int, int]] = []  # (signal index, the index of the signal it aliases)
    timescale_ns = 1.0
    with open(vcd) as f:
        header = []
        for line in f:
            header.append(line)
            if "$enddefinitions" in line:
                break
        text = " ".join(header)
        if "$timescale" in text:
            scale = text.split("$timescale", 1)[1].split("$end", 1)[0].strip()
            number = "".join(c for c in scale if c.isdigit()) or "1"
            unit = scale[len(number):].strip() if scale.startswith(number) else scale.lstrip("0123456789 ")
            timescale_ns = int(number) * {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0, "ps": 1e-3, "fs": 1e-6}[unit]
        scope: list[str] = []
        for raw in text.split("$end"):
            words = raw.split()
            if not words:
                continue
            if words[0] == "$scope":
                # Icarus writes an escaped instance name with its backslashes and quotes escaped.
                scope.append(re.sub(r"\\(.)", r"\1", _normalise(words[2])))
            elif words[0] == "$upscope":
                scope.pop()
            elif words[0] == "$var" and (len(scope) == 2 or hierarchical and len(scope) > 2):
                width, code, name = int(words[2]), words[3], _normalise(words[4])
                if len(scope) > 2:
                    name = ".".join(scope[2:]) + "/" + name
                lsb = 0
                if len(words) > 5 and words[5].startswith("["):
                    bounds = words[5].strip("[]").split(":")
                    lsb = min(int(b) for b in bounds)
                if code in codes:
                    if hierarchical:  # the same net seen from another instance (a port): it toggles alike
                        for bit in range(width):
                            aliases.append((len(signals), codes[code][bit]))
                            signals.append((name, lsb + bit))
                    continue  # an alias of a net already counted
                codes[code] = []
                for bit in range(width):
                    codes[code].append(len(signals))
                    signals.append((name, lsb + bit))
        windows = boundaries.size + 1
        # Plain lists: element updates on numpy arrays cost more than the parsing itself.
        rises = [[0] * len(signals) for _ in range(windows)]
        falls = [[0] * len(signals) for _ in range(windows)]
        scalar_index = {code: idx[0] for code, idx in codes.items() if len(idx) == 1}
        previous: dict[str, str] = {}
        window_rises, window_falls = rises[0], falls[0]
        counting = False
        start = end = None
        for line in f:
            c = line[0]
            if c == "0" or c == "1":
                code = line[1:].rstrip()
                old = previous.get(code)
                previous[code] = c
                if counting and old is not None and old != c and (old == "0" or old == "1"):
                    index = scalar_index.get(code)
                    if index is not None:
                        if c == "1":
                            window_rises[index] += 1
                        else:
                            window_falls[index] += 1
            elif c == "#":
                t = int(line[1:]) * timescale_ns
                start = t if start is None else start
                end = t
                window = int(np.searchsorted(boundaries, t, side="left"))
                window_rises, window_falls = rises[window], falls[window]
            elif c == "$":
                if line.startswith("$dumpvars"):
                    counting = False
                elif line.startswith("$end"):
                    counting = True
            elif c in "xzXZ":
                previous[line[1:].rstrip()] = c
            elif c in "bB":
                bits, code = line[1:].split()
                if code not in codes:
                    continue
                indices = codes[code]
                if len(bits) < len(indices):  # VCD drops leading bits: extend with 0, or x/z
                    pad = bits[0] if bits[0] in "xzXZ" else "0"
                    bits = pad * (len(indices) - len(bits)) + bits
                old = previous.get(code)
                previous[code] = bits
                if old is None or not counting or len(old) != len(bits):
                    continue
                for k, (a, b) in enumerate(zip(reversed(old), reversed(bits))):
                    if a != b and a in "01" and b in "01":
                        (window_rises if b == "1" else window_falls)[indices[k]] += 1
    rises, falls = np.array(rises, dtype=np.int64), np.array(falls, dtype=np.int64)
    for alias, original in aliases:
        rises[:, alias], falls[:, alias] = rises[:, original], falls[:, original]
    return Activity(signals=signals, rises=rises, falls=falls, start_ns=start or 0.0, end_ns=end or 0.0)
