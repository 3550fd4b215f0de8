"""Put this folder on PYTHONPATH to make torch unimportable in a process and in every process it
starts (the simulators' embedded Python too): proof that hw/, sim/ and the training-to-hardware
contract in model/ run without torch. `make test` runs tests/hw and tests/sim this way."""

import importlib.abc
import sys

BLOCKED = "torch"


class _BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname == BLOCKED or fullname.startswith(BLOCKED + "."):
            raise ImportError(f"{fullname} is blocked here: this code must run without torch")
        return None


sys.meta_path.insert(0, _BlockTorch())
