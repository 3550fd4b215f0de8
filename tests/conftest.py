import sys
from pathlib import Path

# The helpers beside the tests (network_factory) import as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))
