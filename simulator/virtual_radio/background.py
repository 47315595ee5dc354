"""Run a :class:`RadioNetwork` on its own event-loop thread, for tests and scripts.

The meshtastic library and CLI are blocking; with the radios on a background thread a test can
drive them from the main thread and inspect the radios through :meth:`BackgroundRadios.call`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import TypeVar

from simulator.virtual_radio.network import NetworkOptions, RadioNetwork
from simulator.virtual_radio.sites import Scenario

T = TypeVar("T")
START_TIMEOUT_S = 10.0


class BackgroundRadios:
    """``with BackgroundRadios(scenario, options) as radios: radios.port_of("nemo")``."""

    def __init__(self, scenario: Scenario, options: NetworkOptions | None = None) -> None:
        self.network = RadioNetwork(scenario, options or NetworkOptions(base_port=0))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="virtual-radios", daemon=True)

    def __enter__(self) -> BackgroundRadios:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.network.start(), self._loop).result(START_TIMEOUT_S)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.network.close(), self._loop).result(START_TIMEOUT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT_S)
            self._loop.close()

    def call(self, function: Callable[[RadioNetwork], T], timeout: float = 5.0) -> T:
        """Run ``function(network)`` on the radios' thread and return its result."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(function(self.network))
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def port_of(self, name: str) -> int:
        """TCP port of scenario node ``name``."""
        return self.network.port_of(name)
