"""Values kept in process for a while: lookups every request makes whose answer changes
rarely (a venue by its poster code, a region's display label). Bounded in size; the process
that changes such a value forgets at once (:meth:`Kept.forget`), other processes within the
time to live."""

from __future__ import annotations

import time
from typing import Any

MISSING: Any = object()  # what get() answers for a key not kept (None may be a kept value)


class Kept:
    def __init__(self, seconds: float, max_items: int) -> None:
        self.seconds = seconds
        self.max_items = max_items
        self.clock = time.monotonic  # (tests move it)
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        item = self._items.get(key)
        return item[1] if item is not None and item[0] > self.clock() else MISSING

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) >= self.max_items:
            self._items.clear()
        self._items[key] = (self.clock() + self.seconds, value)

    def forget(self) -> None:
        self._items.clear()
