"""`reel serve` (the HTTP API and jobs page of docs/server.md) and `reel token`.

FastAPI and uvicorn are the `server` extra: they are imported only when `reel serve`
runs, so the rest of the CLI works without them.
"""

from __future__ import annotations

import ipaddress
import sys

from .cli_args import positive_int

__all__ = ["add_commands"]

EXTRA_HINT = "reel serve needs the server extra: pip install 'reel-engine[server]'"


def add_commands(commands) -> None:
    serve = commands.add_parser("serve", help="serve the HTTP API and jobs page (docs/server.md)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--no-workers", action="store_true", help="only accept jobs; `reel worker`s elsewhere run them")
    serve.add_argument(
        "-j", "--workers", type=positive_int, default=None, help="local worker processes (as `reel worker -j`)"
    )
    serve.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM, time running jobs get to finish before they are queued again (default 30)",
    )
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="no tokens needed (only on a loopback address; for trying the page out)",
    )
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a new API token and the REEL_API_TOKENS entry for it")
    token.add_argument("--name", default=None, help="a name for the token in REEL_API_TOKENS")
    token.set_defaults(run=_token)


def _token(args) -> int:
    from .server.auth import hash_token, new_token

    token = new_token()
    entry = hash_token(token) if not args.name else f"{args.name}={hash_token(token)}"
    print(f"token (give it to the client; it is not stored): {token}")
    print(f"add to REEL_API_TOKENS (comma-separated):         {entry}")
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args) -> int:
    try:
        from .server import create_app, run_server
    except ImportError:
        print(f"reel: error: {EXTRA_HINT}", file=sys.stderr)
        return 2
    from .errors import SettingsError
    from .settings import load_settings

    settings = load_settings()
    if args.insecure_no_auth and not _loopback(args.host):
        raise SettingsError(f"--insecure-no-auth is only for a loopback address, not --host {args.host}")
    if not settings.api_tokens.strip() and not args.insecure_no_auth:
        raise SettingsError("REEL_API_TOKENS: set at least one token hash (`reel token` makes one)")
    app = create_app(
        settings,
        workers=not args.no_workers,
        worker_count=args.workers,
        grace=args.grace,
        auth=not args.insecure_no_auth,
    )
    print(f"reel serve: http://{args.host}:{args.port}/ (jobs in {settings.home})", file=sys.stderr, flush=True)
    run_server(app, args.host, args.port)
    return 0
