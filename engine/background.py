"""One piece of work on a thread of its own while a render goes on.

The soundtrack is mixed and encoded beside the frames (`engine.audio`), and the cover's
PNG is made while the keyframes are checked (`engine.cover`); whoever waits for the
result gets what the work returned, or what it raised, re-raised on their thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Background"]

T = TypeVar("T")


class Background(Generic[T]):
    """`work()` running on a daemon thread named `name`; `result()` waits for it."""

    def __init__(self, name: str, work: Callable[[], T]) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._done = False

        def run() -> None:
            try:
                self._result = work()
                self._done = True
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits, who re-raises it
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self) -> T:
        """What the work returned, once the thread is done; raises what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done
        return self._result  # type: ignore[return-value]  # (None only if the work returns None)

    def join(self) -> None:
        """Wait for the thread, whatever the work does."""
        self._thread.join()
