"""A client for `reel serve` (docs/server.md): submit decks, follow jobs, fetch outputs.

    from engine.client import Client

    with Client("http://127.0.0.1:8000", token) as client:
        job = client.submit("deck.json", platforms=["tiktok"])     # its assets go with it
        job = client.wait(job["id"], on_progress=lambda j: print(j["progress"]["fraction"]))
        files = client.download(job["id"], dest="out/")             # every output, whole

Jobs are the server's JSON objects (plain dicts). The server's refusals come back as
Reel's own errors (`engine.errors`): 401 AuthError, 404 JobNotFoundError, 422 SpecError
with every error in `.errors`, a failed or cancelled job JobFailedError, anything else
ServerError with its `status` (and `retry_after`, `limit`). With ``retry=True`` a 429 or
503 is tried again after the Retry-After it names, a bounded number of times.

Needs httpx (``pip install 'reel-engine[client]'``); `import engine` does not load this
module.
"""

from __future__ import annotations

import builtins
import json
import mimetypes
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

try:
    import httpx
except ImportError as exc:  # the CLI prints this one line
    raise ImportError("engine.client needs httpx: pip install 'reel-engine[client]'") from exc

from .errors import AuthError, EngineError, JobFailedError, JobNotFoundError, ServerError, SpecError

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is Python 3.11+

__all__ = ["FINAL_STATES", "Client"]

#: A job in one of these states will not change again.
FINAL_STATES = frozenset({"done", "failed", "cancelled"})

#: The server sends a keep-alive comment every 15 s; a stream silent for this long is dead.
_STREAM_SILENCE = 45.0

Assets = Mapping[str, "str | os.PathLike[str]"] | Iterable["str | os.PathLike[str]"]


class Client:
    """One server and one token. Thread-safe as httpx.Client is: one per thread is simplest.

    `timeout` bounds each request (connect, read, write), not a whole `wait`. With
    `retry`, a 429 or 503 is sent again after its Retry-After (at most `max_retry_wait`
    seconds each, `retries` times in all) before it is raised.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: bool = False,
        retries: int = 5,
        max_retry_wait: float = 60.0,
        reconnects: int = 10,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a server URL starts with http:// or https://, not {url[:60]!r}")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self.retry, self.retries, self.max_retry_wait = retry, retries, max_retry_wait
        self.reconnects = reconnects
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- jobs ------------------------------------------------------------------------

    def submit(
        self,
        deck: str | os.PathLike[str] | Mapping[str, Any],
        assets: Assets = (),
        *,
        platforms: str | Iterable[str] | None = None,
        quality: str | None = None,
        codec: str | None = None,
        thumbnail: bool | None = None,
        skip_holds: bool | None = None,
        format: str | None = None,
    ) -> dict:
        """Upload a deck with its assets as a new job; the job (state ``queued``).

        `deck` is a ``.json``/``.yaml`` file, whose assets are found from the paths it
        names (only files inside its folder: the server takes no other), or a dict. Extra
        `assets` are a mapping of upload name (the path as the deck writes it) → file, or
        files named by their path relative to the deck's folder (the current folder for a
        dict). Unset options take the server's defaults.
        """
        files: dict[str, Path] = {}
        if isinstance(deck, Mapping):
            deck_name, deck_bytes, folder = "deck.json", json.dumps(deck).encode(), Path.cwd()
        else:
            deck_file = Path(deck)
            try:
                deck_bytes = deck_file.read_bytes()
            except OSError as exc:
                from .errors import AssetError

                raise AssetError(f"cannot read deck file {deck_file}: {exc.strerror}", deck_file) from exc
            deck_name, folder = deck_file.name, deck_file.absolute().parent
            files.update(_deck_assets(deck_file))
        files.update(_named_assets(assets, folder))
        data: dict[str, Any] = {}
        if platforms is not None:
            data["platform"] = [platforms] if isinstance(platforms, str) else list(platforms)
        if quality is not None:
            data["quality"] = quality
        if codec is not None:
            data["codec"] = codec
        if thumbnail is not None:
            data["thumbnail"] = "true" if thumbnail else "false"
        if skip_holds is not None:
            data["skip_holds"] = "true" if skip_holds else "false"
        if format is not None:
            data["format"] = format

        def body(stack: ExitStack) -> dict:
            parts: list[tuple[str, tuple[str, Any, str]]] = [
                ("deck", (deck_name, deck_bytes, _content_type(deck_name)))
            ]
            for name, path in files.items():
                handle = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - the stack closes it
                parts.append(("assets", (name, handle, _content_type(name))))
            return {"files": parts, "data": data}

        return self._json("POST", "/v1/jobs", body)

    def get(self, job_id: str) -> dict:
        """The job as the server has it now."""
        return self._json("GET", _job_path(job_id))

    def list(self, state: str | None = None, limit: int | None = None) -> builtins.list[dict]:
        """This token's jobs, newest first; only those in `state` if given."""
        params = {k: v for k, v in (("state", state), ("limit", limit)) if v is not None}
        return self._json("GET", "/v1/jobs", lambda stack: {"params": params})["jobs"]

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued or running job; the job (``cancelled``, or about to be)."""
        return self._json("DELETE", _job_path(job_id))

    def wait(
        self, job_id: str, on_progress: Callable[[dict], None] | None = None, timeout: float | None = None
    ) -> dict:
        """Follow the job's event stream until it ends; the job once ``done``.

        `on_progress(job)` gets the job at each state change and each progress event
        (``job["progress"]`` holds the frame, frames, fraction, fps and eta). A stream
        that drops is opened again (it starts with the current state, so nothing is
        missed), up to `reconnects` times in a row. A failed or cancelled job raises
        JobFailedError with the server's message; TimeoutError after `timeout` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        drops = 0
        job: dict | None = None
        while True:
            try:
                for event, data in self._events(job_id, deadline):
                    drops = 0
                    if event == "state":
                        job = data
                    elif event == "progress" and job is not None:
                        job = {**job, "progress": data}
                    else:
                        continue
                    if on_progress is not None:
                        on_progress(job)
                    if job["state"] in FINAL_STATES:
                        return _finished(job)
            except (httpx.TransportError, _Unreachable) as exc:  # dropped, silent too long, or down
                if deadline is not None and time.monotonic() >= deadline:
                    break
                drops += 1
                if drops > self.reconnects:
                    raise ServerError(f"lost the event stream of job {job_id} {drops} times: {exc}", 0) from exc
                time.sleep(min(0.2 * drops, 2.0))
                continue
            # The stream ended without a final state: ask, and follow it again if need be.
            job = self.get(job_id)
            if job["state"] in FINAL_STATES:
                if on_progress is not None:
                    on_progress(job)
                return _finished(job)
            if deadline is not None and time.monotonic() >= deadline:
                break
            drops += 1
            if drops > self.reconnects:
                raise ServerError(f"the event stream of job {job_id} keeps ending before the job does", 0)
        state = job["state"] if job else "unknown"
        raise TimeoutError(f"job {job_id} is still {state} after {timeout:g} s")

    def download(self, job_id: str, name: str | None = None, dest: str | os.PathLike[str] = ".") -> builtins.list[Path]:
        """Fetch output `name` of the job, or every output when None, into folder `dest`.

        Each file is streamed to a hidden temporary beside its final path and renamed
        when whole: an interrupted download leaves nothing half-written.
        """
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        names = [name] if name is not None else [output["name"] for output in self.get(job_id)["outputs"]]
        return [self._fetch(job_id, n, folder) for n in names]

    # -- plumbing --------------------------------------------------------------------

    def _fetch(self, job_id: str, name: str, folder: Path) -> Path:
        if not name or name != Path(name).name or name in (".", ".."):
            raise ServerError(f"job {job_id}: refusing to write output {name!r}: not a plain file name", 0)
        target = folder / name
        with self._send("GET", f"{_job_path(job_id)}/outputs/{quote(name, safe='')}", stream=True) as response:
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed or removed
                dir=folder, prefix=f".{name}.", suffix=".part", delete=False
            )
            try:
                with handle:
                    for chunk in response.iter_bytes(1 << 20):
                        handle.write(chunk)
                os.replace(handle.name, target)
            except BaseException:
                Path(handle.name).unlink(missing_ok=True)
                raise
        return target

    def _events(self, job_id: str, deadline: float | None) -> Iterator[tuple[str, Any]]:
        """(event, data) from the job's event stream until the server ends it."""
        silence = _STREAM_SILENCE
        if deadline is not None:
            silence = max(0.1, min(silence, deadline - time.monotonic()))
        timeout = httpx.Timeout(self._http.timeout.connect, read=silence)
        with self._send("GET", f"{_job_path(job_id)}/events", stream=True, timeout=timeout) as response:
            event, data = "message", []
            for line in response.iter_lines():
                if deadline is not None and time.monotonic() >= deadline:
                    raise httpx.ReadTimeout("past the deadline")
                if line.startswith(":"):  # a keep-alive comment
                    continue
                if line:
                    field, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
                    continue
                if data:
                    yield event, json.loads("\n".join(data))
                event, data = "message", []

    def _json(self, method: str, path: str, body: Callable[[ExitStack], dict] | None = None) -> Any:
        with self._send(method, path, body=body) as response:
            response.read()
            return response.json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Callable[[ExitStack], dict] | None = None,
        stream: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> _Response:
        """The response of a request that succeeded (2xx), open; the server's refusal
        as its error. 429 and 503 are retried after their Retry-After when `retry` is on."""
        attempt = 0
        while True:
            attempt += 1
            with ExitStack() as stack:  # files a multipart body streams from
                options = body(stack) if body else {}
                if timeout is not None:
                    options["timeout"] = timeout
                request = self._http.build_request(method, path, **options)
                try:
                    response = self._http.send(request, stream=True)
                except httpx.TransportError as exc:
                    raise _Unreachable(f"no answer from {self.url} ({method} {path}): {exc}", 0) from exc
            if response.is_success:
                return _Response(response)
            response.read()
            response.close()
            error = _error(response)
            wait = getattr(error, "retry_after", None)
            if not (self.retry and response.status_code in (429, 503) and attempt <= self.retries):
                raise error
            time.sleep(min(self.max_retry_wait, wait if wait is not None else 1.0))


class _Unreachable(ServerError):
    """No answer came (refused, reset, timed out): `wait` tries again, others raise it."""


class _Response:
    """An open response, closed on leaving the `with`."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc_info: object) -> None:
        self.response.close()


def _error(response: httpx.Response) -> EngineError:
    """The error a refused request stands for, with the server's own message."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = body.get("error")
    if not isinstance(message, str) or not message:
        detail = body.get("detail")
        message = detail if isinstance(detail, str) else f"HTTP {status} {response.reason_phrase}".strip()
    if status == 401:
        return AuthError(message, status)
    if status == 404:
        return JobNotFoundError(message)
    if status == 422:
        errors = _spec_errors(body)
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return SpecError(first["message"] + more, first["path"], errors=errors)
        return SpecError(message)
    retry_after = _seconds(response.headers.get("Retry-After"))
    limit = body.get("limit") if isinstance(body.get("limit"), str) else None
    return ServerError(message, status, retry_after=retry_after, limit=limit)


def _spec_errors(body: dict) -> list[dict[str, str]]:
    """A 422's errors as ``{"path", "message"}``: Reel's ``errors``, or FastAPI's ``detail``."""
    if isinstance(body.get("errors"), list):
        return [
            {"path": str(e.get("path", "")), "message": str(e.get("message", ""))}
            for e in body["errors"]
            if isinstance(e, dict)
        ]
    if isinstance(body.get("detail"), list):  # a form field FastAPI itself refused
        return [
            {"path": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
            for e in body["detail"]
            if isinstance(e, dict)
        ]
    return []


def _seconds(value: str | None) -> float | None:
    """Retry-After as seconds (the server sends a number; an HTTP date counts as 1 s)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def _finished(job: dict) -> dict:
    if job["state"] == "done":
        return job
    error = job.get("error") or {}
    kind = error.get("type") or ""
    message = error.get("message") or f"job {job['id']} {job['state']}"
    raise JobFailedError(message, job_id=job["id"], error_type=kind, user_error=kind != "RenderError")


def _job_path(job_id: str) -> str:
    return f"/v1/jobs/{quote(job_id, safe='')}"


def _content_type(name: str) -> str:
    if name.lower().endswith((".yaml", ".yml")):
        return "application/yaml"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _deck_assets(deck_file: Path) -> dict[str, Path]:
    """Upload name → file for every file the deck names inside its folder.

    The deck is read and validated here with this machine's limits; if that fails, no
    file is found and the server says what is wrong (every error, not only the first).
    A file outside the deck's folder is not sent: the server refuses such paths anyway.
    """
    from .spec import load_deck

    folder = deck_file.absolute().parent
    try:
        deck = load_deck(deck_file)
    except EngineError:
        return {}
    found: dict[str, Path] = {}
    for _, path, _ in deck.asset_files():
        try:
            name = path.relative_to(folder).as_posix()
        except ValueError:
            continue
        found[name] = path
    return found


def _named_assets(assets: Assets, folder: Path) -> dict[str, Path]:
    """Upload name → file for assets given by the caller."""
    if isinstance(assets, Mapping):
        return {str(name): Path(path) for name, path in assets.items()}
    named: dict[str, Path] = {}
    for item in assets:
        path = Path(item)
        absolute = path if path.is_absolute() else folder / path
        try:
            name = Path(os.path.abspath(absolute)).relative_to(folder).as_posix()
        except ValueError:
            raise ValueError(
                f"asset {item} is outside the deck's folder {folder}: give it a name in a mapping"
            ) from None
        named[name] = absolute
    return named
