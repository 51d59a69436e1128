"""The FastAPI app of `reel serve`: docs/server.md is its contract.

`create_app(settings, workers=...)` wires the pieces: tokens and sessions (`auth`), the
per-token rate limit (`ratelimit`), the request-size limit (`bodylimit`), the job's
files and checks (`intake`), the JSON it answers with (`views`), progress as
server-sent events (`events`), the jobs page (`page/`), and the queue with its local
supervisor (`service`).
"""

from __future__ import annotations

import asyncio
import io
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from ..errors import JobNotFoundError, QueueFullError
from ..jobs import JobRecord, JobState
from ..metrics import metrics_text
from ..settings import Settings
from ..version import __version__
from .auth import SESSION_COOKIE, SESSION_SECONDS, Sessions, TokenBook
from .bodylimit import BodyLimit
from .events import job_events
from .intake import JobForm, Refusal, Upload, accept_job, upload_folder
from .ratelimit import RateLimiter
from .service import Service
from .views import REPORT_NAME, job_outputs, job_view, report_bytes

__all__ = ["PAGE_FOLDER", "create_app"]

PAGE_FOLDER = Path(__file__).parent / "page"
_RETRY_FULL = 10  # seconds a client is asked to wait when the queue is full
_RETRY_STOPPING = 30
_PLACEHOLDER = "<!doctype html><title>Reel</title><p>The jobs page is not installed; the API is at /docs.</p>"


class _Refused(HTTPException):
    """An HTTP error whose JSON body is `body` as is."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, str(body.get("error", "")), headers)
        self.body = body


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Refused:
    return _Refused(status, {"error": message}, headers)


def create_app(
    settings: Settings, *, workers: bool, worker_count: int | None = None, grace: float = 30.0, auth: bool = True
) -> FastAPI:
    """The server's app. `workers`: run a local supervisor while it serves; `auth=False`
    (`--insecure-no-auth`, loopback only) lets every request in as one client."""
    tokens = TokenBook.parse(settings.api_tokens)
    service = Service(settings, workers=workers, worker_count=worker_count, grace=grace)
    sessions = Sessions()
    limiter = RateLimiter(settings.rate_limit)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        yield
        service.begin_stop()
        await asyncio.to_thread(service.wait_stopped)

    app = FastAPI(
        title="Reel",
        version=__version__,
        summary="Slide decks to video: submit, watch and download render jobs.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.gate = _Gate(settings, tokens if auth else None, sessions, limiter)
    app.add_middleware(BodyLimit, limit=int(settings.max_request_mb * 1e6))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.body if isinstance(exc, _Refused) else {"error": str(exc.detail)}
        return JSONResponse(body, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors() if "loc" in e]
        return JSONResponse({"errors": errors}, 422)

    def owned(job_id: str, client: str) -> JobRecord:
        try:
            record = service.store.get(job_id)
        except JobNotFoundError:
            record = None
        if record is None or record.id != job_id or record.client != client:
            raise _error(404, f"no job {job_id!r}")
        return record

    # -- session ---------------------------------------------------------------------

    @app.post("/v1/session", status_code=204, tags=["session"])
    async def open_session(request: Request) -> Response:
        """Trade a token for the `reel_session` cookie (the page, `<video>`, EventSource)."""
        try:
            token = str((await request.json()).get("token", ""))
        except (ValueError, AttributeError):
            raise _error(422, 'send {"token": "..."} as JSON') from None
        client = app.state.gate.identify_token(token)
        if client is None:
            raise _error(401, "that token is not one of this server's", {"WWW-Authenticate": "Bearer"})
        response = Response(status_code=204)
        response.set_cookie(
            SESSION_COOKIE, sessions.open(client), max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/"
        )
        return response

    @app.delete("/v1/session", status_code=204, tags=["session"])
    async def close_session(request: Request) -> Response:
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            sessions.close(session)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- jobs --------------------------------------------------------------------------

    @app.post("/v1/jobs", status_code=201, tags=["jobs"])
    async def submit(request: Request, client: Caller) -> JSONResponse:
        """A deck (`deck`) and its `assets`, or one `bundle` zip; `platform`, `quality`, `codec`, `thumbnail`."""
        if service.stopping:
            raise _error(503, "the server is shutting down; submit again later", {"Retry-After": str(_RETRY_STOPPING)})
        if service.store.counts()[JobState.QUEUED] >= settings.queue_max:
            raise _queue_full(settings)
        async with request.form(max_files=4 * settings.max_assets + 8, max_fields=64) as form:
            job_form = _job_form(form)
            try:
                job = await asyncio.to_thread(accept_job, job_form, settings)
            except Refusal as refusal:
                return JSONResponse(refusal.body, refusal.status)
        try:
            record = service.store.submit(
                job, max_attempts=settings.max_attempts, queue_max=settings.queue_max, client=client
            )
        except QueueFullError:
            await asyncio.to_thread(_remove, upload_folder(settings.home, job.id))
            raise _queue_full(settings) from None
        return JSONResponse(job_view(record), 201, headers={"Location": f"/v1/jobs/{record.id}"})

    @app.get("/v1/jobs", tags=["jobs"])
    def list_jobs(client: Caller, state: str | None = None, limit: int = 50) -> dict:
        if state is not None and state not in JobState.ALL:
            raise _Refused(422, {"errors": [{"path": "state", "message": f"one of {', '.join(JobState.ALL)}"}]})
        records = service.store.list(state=state, limit=max(1, min(limit, 200)), client=client)
        return {"jobs": [job_view(r) for r in records]}

    @app.get("/v1/jobs/{job_id}", tags=["jobs"])
    def get_job(job_id: str, client: Caller) -> dict:
        return job_view(owned(job_id, client))

    @app.delete("/v1/jobs/{job_id}", tags=["jobs"])
    def cancel_job(job_id: str, client: Caller) -> dict:
        record = owned(job_id, client)
        if not record.final:
            record = service.store.cancel(record.id)
        return job_view(record)

    @app.get("/v1/jobs/{job_id}/events", tags=["jobs"])
    def events(job_id: str, client: Caller) -> StreamingResponse:
        """Server-sent events: `state` (the job) on each change, `progress` as frames go by."""
        owned(job_id, client)
        stream = job_events(service.store, job_id, lambda: service.stopping)
        return StreamingResponse(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    @app.get("/v1/jobs/{job_id}/outputs/{name}", tags=["jobs"])
    def output(job_id: str, name: str, client: Caller, download: bool = False) -> Response:
        """A video (HTTP Range), its thumbnail, or `report.json`; `?download=1` for an attachment."""
        record = owned(job_id, client)
        found = next((o for o in job_outputs(record) if o.name == name), None)
        if found is None:
            raise _error(404, f"job {job_id} has no output {name!r}")
        disposition = "attachment" if download else "inline"
        if found.path is None:
            headers = {"Content-Disposition": f'{disposition}; filename="{REPORT_NAME}"'}
            return Response(report_bytes(record), media_type=found.media_type, headers=headers)
        return FileResponse(
            found.path, media_type=found.media_type, filename=found.name, content_disposition_type=disposition
        )

    # -- service -------------------------------------------------------------------------

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/readyz", tags=["service"])
    def readyz() -> JSONResponse:
        reason = service.not_ready()
        if reason is not None:
            return JSONResponse({"ready": False, "reason": reason}, 503)
        return JSONResponse({"ready": True, "queued": service.store.counts()[JobState.QUEUED]})

    @app.get("/metrics", tags=["service"], response_class=PlainTextResponse)
    def metrics(client: Caller) -> PlainTextResponse:
        return PlainTextResponse(metrics_text(service.store, service.cache), media_type="text/plain; version=0.0.4")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(client: Caller) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(client: Caller) -> HTMLResponse:
        # Swagger UI from the swagger-ui-bundle-v2 package, served here: FastAPI's
        # default page loads it from a public CDN, which a closed network cannot reach.
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Reel API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/static/icon.svg",
        )

    app.mount("/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    # -- the jobs page ---------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        index = PAGE_FOLDER / "index.html"
        return FileResponse(index) if index.is_file() else HTMLResponse(_PLACEHOLDER)

    if PAGE_FOLDER.is_dir():
        app.mount("/static", StaticFiles(directory=PAGE_FOLDER), name="static")
    return app


@dataclass(frozen=True)
class _Gate:
    """Who may pass: tokens (None: everyone, as "local"), sessions, the rate limit."""

    settings: Settings
    tokens: TokenBook | None
    sessions: Sessions
    limiter: RateLimiter

    def identify_token(self, token: str) -> str | None:
        return "local" if self.tokens is None else self.tokens.identify(token)

    def identify(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self.identify_token(token.strip())
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            return self.sessions.client(session)
        return "local" if self.tokens is None else None


def _caller(request: Request) -> str:
    """The token id of the request's token or session (401 if none), counted against its rate."""
    gate: _Gate = request.app.state.gate
    client = gate.identify(request)
    if client is None:
        raise _error(401, "a valid API token is needed (Authorization: Bearer <token>)", {"WWW-Authenticate": "Bearer"})
    wait = gate.limiter.take(client)
    if wait:
        raise _error(
            429,
            f"too many requests; at most {gate.settings.rate_limit} a minute (REEL_RATE_LIMIT)",
            {"Retry-After": str(int(wait))},
        )
    return client


Caller = Annotated[str, Depends(_caller)]


def _queue_full(settings: Settings) -> _Refused:
    return _Refused(
        429,
        {
            "error": f"the queue is full (REEL_QUEUE_MAX={settings.queue_max}); submit again later",
            "limit": "REEL_QUEUE_MAX",
        },
        {"Retry-After": str(_RETRY_FULL)},
    )


def _job_form(form) -> JobForm:
    def upload(part, default_name: str) -> Upload:
        if isinstance(part, UploadFile):
            return Upload(part.filename or default_name, part.file, part.size)
        text = str(part).encode()
        name = default_name if text.lstrip()[:1] in (b"{", b"[") else default_name.replace(".json", ".yaml")
        return Upload(name, io.BytesIO(text), len(text))

    deck, bundle = form.get("deck"), form.get("bundle")

    def flag(name: str) -> bool:
        return str(form.get(name, "true")).strip().lower() not in ("false", "0", "no", "off")

    return JobForm(
        deck=None if deck is None else upload(deck, "deck.json"),
        bundle=None if bundle is None else upload(bundle, "bundle.zip"),
        assets=[upload(a, "asset") for a in form.getlist("assets")],
        platforms=[str(p) for p in form.getlist("platform")],
        quality=str(form["quality"]) if form.get("quality") else None,
        codec=str(form["codec"]) if form.get("codec") else None,
        thumbnail=flag("thumbnail"),
        skip_holds=flag("skip_holds"),
        format=str(form["format"]) if form.get("format") else "mp4",
    )


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
