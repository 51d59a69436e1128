"""Running the app under uvicorn, with the shutdown of docs/server.md.

SIGTERM (or Ctrl-C) first drains: new jobs get 503 while the local supervisor finishes
what runs or queues it again (`Service.begin_stop`); then uvicorn stops. A second signal
stops at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .service import Service

__all__ = ["run_server"]


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self.service = service
        self.draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not uvicorn's own: that one re-raises the signal after serving, which would end
        # the process by the signal instead of a clean exit.
        if self.draining:
            self.should_exit = True
            self.force_exit = sig == signal.SIGINT
            return
        self.draining = True
        self.service.begin_stop()

        def exit_when_stopped() -> None:
            self.service.wait_stopped()
            self.should_exit = True

        threading.Thread(target=exit_when_stopped, name="reel-drain", daemon=True).start()


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` (from `create_app`) until SIGTERM or SIGINT, then drain and return."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    _DrainingServer(config, app.state.service).run()
