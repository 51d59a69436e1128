"""REEL_MAX_REQUEST_MB: a request body past it is refused with 413, before or while it arrives."""

from __future__ import annotations

import json

__all__ = ["BodyLimit"]


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a declared Content-Length over `limit` bytes is answered at once; a
    body that streams past it is cut off there."""

    def __init__(self, app, limit: int, setting: str = "REEL_MAX_REQUEST_MB") -> None:
        self.app, self.limit, self.setting = app, limit, setting

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        mb = self.limit / 1e6
        body = json.dumps(
            {"error": f"the request is larger than {mb:g} MB ({self.setting})", "limit": self.setting}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})
