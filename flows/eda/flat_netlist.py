"""A mapped netlist (Yosys JSON, flat or hierarchical) as one flat graph of nets and leaf cells, with
every net name of every module instance kept: what the compiled gate-level simulation runs and how
its toggle counts are named, the way a VCD of the netlist names them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CONSTANT_NETS = {"0": 0, "1": 1, "x": 0, "z": 0}  # net 0 holds 0 and net 1 holds 1; x and z simulate as 0
CONSTANT_COUNT = 2  # net ids below this are the constants


@dataclass(frozen=True, eq=False)
class LeafCell:
    """A library cell or black box: its type, its pins' nets (lsb first) and directions."""

    type: str
    name: str
    connections: dict[str, tuple[int, ...]]
    directions: dict[str, str]


@dataclass(frozen=True, eq=False)
class FlatNetlist:
    """nets: how many net ids there are (0 and 1 are the constants); ports: the top module's, lsb
    first; signals: (name, bit) of every net name, an instance's names prefixed by its path of
    instance names joined by dots and a slash ("layer0.weights/q"); signal_nets: the net of each."""

    nets: int
    cells: tuple[LeafCell, ...]
    ports: dict[str, tuple[int, ...]]
    port_directions: dict[str, str]
    signals: tuple[tuple[str, int], ...]
    signal_nets: tuple[int, ...]

    @staticmethod
    def load(netlist_json: Path, *, top: str) -> "FlatNetlist":
        modules = json.loads(Path(netlist_json).read_text())["modules"]
        if top not in modules:
            raise ValueError(f"{netlist_json} has no module {top}")
        own = {name for name, module in modules.items() if not module.get("attributes", {}).get("blackbox")}
        builder = _Builder(modules, own)
        ports = builder.instantiate(top, (), {})
        module = modules[top]
        find = builder.find
        cells = tuple(LeafCell(type=cell.type, name=cell.name, directions=cell.directions,
                               connections={pin: tuple(map(find, nets)) for pin, nets in cell.connections.items()})
                      for cell in builder.cells)
        return FlatNetlist(nets=builder.next_net, cells=cells,
                           ports={name: tuple(map(find, nets)) for name, nets in ports.items()},
                           port_directions={name: port["direction"] for name, port in module["ports"].items()},
                           signals=tuple(builder.signals), signal_nets=tuple(map(find, builder.signal_nets)))


class _Builder:
    def __init__(self, modules: dict, own: set[str]):
        self.modules = modules
        self.own = own
        self.next_net = CONSTANT_COUNT
        self.parent: dict[int, int] = {}  # union-find over nets: one net seen under two ids
        self.cells: list[LeafCell] = []
        self.signals: list[tuple[str, int]] = []
        self.signal_nets: list[int] = []

    def find(self, net: int) -> int:
        root = net
        while root in self.parent:
            root = self.parent[root]
        while net != root:  # path compression
            self.parent[net], net = root, self.parent[net]
        return root

    def union(self, a: int, b: int) -> None:
        """Two ids of one net: an instance whose port bits repeat a net (two outputs that are equal, an
        input passed straight through) joins its parent's nets there. The constants stay roots."""
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        if a < CONSTANT_COUNT and b < CONSTANT_COUNT:
            raise ValueError("the netlist ties constant 0 to constant 1")
        self.parent[max(a, b)] = min(a, b)

    def instantiate(self, module_name: str, path: tuple[str, ...], bound: dict[int, int]) -> dict[str, tuple[int, ...]]:
        """Add one instance of the module; bound maps its port bits to the parent's nets. Returns its
        ports' nets."""
        module = self.modules[module_name]
        local = dict(bound)

        def net(bit) -> int:
            if isinstance(bit, str):
                return CONSTANT_NETS[bit]
            if bit not in local:
                local[bit] = self.next_net
                self.next_net += 1
            return local[bit]

        ports = {name: tuple(net(b) for b in port["bits"]) for name, port in module["ports"].items()}
        for cell_name, cell in module["cells"].items():
            name = cell_name[1:] if cell_name.startswith("\\") else cell_name
            connections = {pin: tuple(net(b) for b in bits) for pin, bits in cell["connections"].items()}
            if cell["type"] in self.own:
                child = self.modules[cell["type"]]
                child_bound: dict[int, int] = {}
                for pin, port in child["ports"].items():
                    for k, bit in enumerate(port["bits"]):
                        if not isinstance(bit, int):
                            continue
                        if bit in child_bound:
                            self.union(child_bound[bit], connections[pin][k])
                        else:
                            child_bound[bit] = connections[pin][k]
                self.instantiate(cell["type"], (*path, name), child_bound)
            else:
                self.cells.append(LeafCell(type=cell["type"], name=".".join((*path, name)), connections=connections,
                                           directions=dict(cell.get("port_directions", {}))))
        prefix = ".".join(path) + "/" if path else ""
        for name, netname in module["netnames"].items():
            # A one-bit net split out of a vector keeps its offset in the JSON but is a scalar in a VCD.
            offset = netname.get("offset", 0) if len(netname["bits"]) > 1 else 0
            for k, bit in enumerate(netname["bits"]):
                if isinstance(bit, int):
                    self.signals.append((prefix + name, offset + k))
                    self.signal_nets.append(net(bit))
        return ports
