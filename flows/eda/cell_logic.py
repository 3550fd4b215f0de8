"""What a standard cell computes, read from its liberty `function` and `ff` attributes and reduced to
truth tables: the form the compiled gate-level simulation (flows/eda/compiled_gate_level.py)
evaluates, so that any library's cells simulate without a hand-written model per cell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# A truth table is an int: bit k is the output for the input assignment whose bit i is input i.
MAX_INPUTS = 6  # 64-entry tables fit a 64-bit word in the simulator


class CellLogicError(ValueError):
    """A cell whose behaviour the compiled simulation cannot represent."""


_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_\[\]]*|[01]|[!'()^*&|+])")


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise CellLogicError(f"cannot read the liberty function {text!r} at {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    """Liberty's boolean grammar, precedence high to low: ! and postfix ', ^, AND (*, & or
    juxtaposition), OR (+, |). Returns a nested tuple tree over variable names."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self):
        tree = self._or()
        if self.position != len(self.tokens):
            raise CellLogicError(f"unexpected {self.tokens[self.position]!r} in the liberty function {self.text!r}")
        return tree

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise CellLogicError(f"the liberty function {self.text!r} ends early")
        self.position += 1
        return token

    def _or(self):
        tree = self._and()
        while self._peek() in ("+", "|"):
            self._take()
            tree = ("or", tree, self._and())
        return tree

    def _and(self):
        tree = self._xor()
        while True:
            token = self._peek()
            if token in ("*", "&"):
                self._take()
            elif token is None or token in ("+", "|", ")", "^", "'"):
                return tree
            tree = ("and", tree, self._xor())

    def _xor(self):
        tree = self._unary()
        while self._peek() == "^":
            self._take()
            tree = ("xor", tree, self._unary())
        return tree

    def _unary(self):
        token = self._take()
        if token == "!":
            tree = ("not", self._unary())
        elif token == "(":
            tree = self._or()
            if self._take() != ")":
                raise CellLogicError(f"unbalanced parentheses in the liberty function {self.text!r}")
        elif token in ("0", "1"):
            tree = ("const", int(token))
        elif token[0].isalpha() or token[0] == "_":
            tree = ("var", token)
        else:
            raise CellLogicError(f"unexpected {token!r} in the liberty function {self.text!r}")
        while self._peek() == "'":
            self._take()
            tree = ("not", tree)
        return tree


def _variables(tree) -> set[str]:
    if tree[0] == "var":
        return {tree[1]}
    if tree[0] == "const":
        return set()
    return set().union(*(_variables(child) for child in tree[1:]))


def _evaluate(tree, values: dict[str, int]) -> int:
    kind = tree[0]
    if kind == "var":
        return values[tree[1]]
    if kind == "const":
        return tree[1]
    if kind == "not":
        return 1 - _evaluate(tree[1], values)
    a, b = _evaluate(tree[1], values), _evaluate(tree[2], values)
    return a & b if kind == "and" else a | b if kind == "or" else a ^ b


@dataclass(frozen=True)
class TruthTable:
    """inputs: the variables in table order; table: bit k is the value for assignment k."""

    inputs: tuple[str, ...]
    table: int

    @staticmethod
    def of(function: str, *, order: tuple[str, ...] | None = None) -> "TruthTable":
        tree = _Parser(function).parse()
        names = _variables(tree)
        inputs = tuple(order) if order is not None else tuple(sorted(names))
        if not names <= set(inputs):
            raise CellLogicError(f"the liberty function {function!r} reads {sorted(names - set(inputs))}, "
                                 f"not among {list(inputs)}")
        if len(inputs) > MAX_INPUTS:
            raise CellLogicError(f"the liberty function {function!r} has {len(inputs)} inputs; the compiled "
                                 f"simulation takes at most {MAX_INPUTS}")
        table = 0
        for k in range(1 << len(inputs)):
            if _evaluate(tree, {name: k >> i & 1 for i, name in enumerate(inputs)}):
                table |= 1 << k
        return TruthTable(inputs=inputs, table=table)


@dataclass(frozen=True)
class CellLogic:
    """A cell's behaviour. outputs: output pin -> its table over input pins (and, for a flip-flop,
    its state variable). A flip-flop has next_state (a table over input pins) taken on the rising
    edge of `clock_pin`, and `state` names the variable its outputs read."""

    name: str
    outputs: dict[str, TruthTable]
    clock_pin: str | None = None
    next_state: TruthTable | None = None
    state: str | None = None

    @property
    def sequential(self) -> bool:
        return self.clock_pin is not None


def _unquote(value) -> str:
    return str(value).strip().strip('"').strip()


@lru_cache(maxsize=8)
def read_cell_logic(path: Path) -> dict[str, CellLogic]:
    """Every cell of the liberty file whose behaviour the compiled simulation represents: combinational
    cells and rising-edge flip-flops without set or reset. Others (latches, three-state buffers,
    asynchronous set/reset, negative-edge clocks) are left out; a netlist that uses one is refused
    where it is loaded."""
    from liberty.parser import parse_liberty

    library = parse_liberty(Path(path).read_text())
    cells = {}
    for cell in library.get_groups("cell"):
        name = _unquote(cell.args[0])
        pins = {_unquote(pin.args[0]): pin for pin in cell.get_groups("pin")}
        inputs = tuple(p for p, pin in pins.items() if _unquote(pin["direction"]) == "input")
        if cell.get_groups("latch") or any(pin["three_state"] is not None for pin in pins.values()):
            continue
        flip_flops = cell.get_groups("ff")
        clock_pin = next_state = state = None
        if flip_flops:
            ff = flip_flops[0]
            if len(flip_flops) > 1 or ff["clear"] is not None or ff["preset"] is not None:
                continue
            clocked_on = _unquote(ff["clocked_on"])
            if clocked_on not in inputs:
                continue  # an inverted or gated clock
            clock_pin = clocked_on
            state = _unquote(ff.args[0])
            next_state = TruthTable.of(_unquote(ff["next_state"]), order=tuple(p for p in inputs if p != clock_pin))
        try:
            outputs = {}
            for pin_name, pin in pins.items():
                if _unquote(pin["direction"]) != "output":
                    continue
                function = _unquote(pin["function"])
                if flip_flops:
                    # A flip-flop's output reads its state variable (or its complement variable).
                    complement = _unquote(ff.args[1]) if len(ff.args) > 1 else None
                    if complement:
                        function = re.sub(rf"\b{re.escape(complement)}\b", f"!{state}", function)
                    outputs[pin_name] = TruthTable.of(function, order=(state,))
                else:
                    outputs[pin_name] = TruthTable.of(function, order=inputs)
        except CellLogicError:
            continue
        cells[name] = CellLogic(name=name, outputs=outputs, clock_pin=clock_pin, next_state=next_state, state=state)
    return cells
