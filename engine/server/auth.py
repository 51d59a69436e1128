"""Who is asking: API tokens held as hashes, and the page's session cookie.

`REEL_API_TOKENS` lists ``sha256:<hex>`` or ``name=sha256:<hex>`` entries; a token is
never kept in clear. A request carries ``Authorization: Bearer <token>`` or the
``reel_session`` cookie that ``POST /v1/session`` set. Either way the caller is known
by its token id: the first 16 hex digits of the token's hash, which is what a job
records as its client.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from ..errors import SettingsError

__all__ = ["SESSION_COOKIE", "SESSION_SECONDS", "Sessions", "TokenBook", "hash_token", "new_token", "token_id"]

SESSION_COOKIE = "reel_session"
SESSION_SECONDS = 12 * 3600
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


def hash_token(token: str) -> str:
    """``sha256:<hex>`` of `token`: what REEL_API_TOKENS holds."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def token_id(digest_hex: str) -> str:
    return digest_hex[:16]


def new_token() -> str:
    """A random token for `reel token`."""
    return "reel_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenBook:
    """The accepted token hashes: hex digest → name (its id when unnamed)."""

    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> TokenBook:
        """The entries of REEL_API_TOKENS; SettingsError naming a bad entry (a plain token above all)."""
        names: dict[str, str] = {}
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            name, _, digest = entry.rpartition("=") if "=" in entry else ("", "", entry)
            match = _HASH.fullmatch(digest.strip().lower())
            if match is None:
                raise SettingsError(
                    f"REEL_API_TOKENS: entry {len(names) + 1} is not sha256:<64 hex digits> (or name=sha256:<hex>); "
                    "tokens are never kept in clear: `reel token` prints a new one and the line to add"
                )
            names[match[1]] = name.strip() or token_id(match[1])
        return cls(names)

    def identify(self, token: str) -> str | None:
        """The token id of `token` if it is one of ours, else None."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        for known in self.names:
            if hmac.compare_digest(known, digest):
                return token_id(known)
        return None


class Sessions:
    """Session cookie id → (token id, expiry), in memory: a restart logs everyone out."""

    def __init__(self, lifetime: float = SESSION_SECONDS) -> None:
        self.lifetime = lifetime
        self._sessions: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def open(self, client: str) -> str:
        session = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
            self._sessions[session] = (client, now + self.lifetime)
        return session

    def client(self, session: str) -> str | None:
        with self._lock:
            found = self._sessions.get(session)
        if found is None or found[1] <= time.time():
            return None
        return found[0]

    def close(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
