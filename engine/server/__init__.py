"""`reel serve`: the HTTP API (docs/server.md) and the jobs page, on the job queue of engine.jobs.

Needs the `server` extra (FastAPI, uvicorn, python-multipart).
"""

from .app import create_app
from .auth import hash_token, new_token
from .runner import run_server

__all__ = ["create_app", "hash_token", "new_token", "run_server"]
