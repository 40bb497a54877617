"""The local stack: the template's API, table and schedule, run in one process without Docker."""

import sys
from pathlib import Path

# The functions import the shared layer's package as Lambda would find it under /opt/python.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "shared")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
