"""Waiting for something that happens in another thread or process, bounded in time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], seconds: float = 15.0, interval: float = 0.05) -> Any:
    """`condition()`'s first truthy result; AssertionError once `seconds` have passed without one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")
