"""Every error Reel raises on purpose.

    EngineError
     ├── SpecError                  (ValueError)         the deck is wrong; message starts with its path
     ├── AssetError                 (FileNotFoundError)  an image/font file is missing or unreadable
     ├── BackendUnavailableError    (RuntimeError)       a compositor or encoder that was asked for cannot start
     ├── CodecNotSupportedError     (RuntimeError)       no encoder on this machine can write the codec
     ├── InsufficientResourcesError (OSError)            not enough disk or memory to start
     ├── OutputError                (OSError)            the output path cannot be written (a folder, read-only, too long)
     ├── RenderTimeoutError         (TimeoutError)       a render ran past its time limit (--timeout, a frame's budget)
     ├── SettingsError              (ValueError)         a setting (environment, reel.toml) has a bad value
     ├── QueueFullError             (RuntimeError)       the job queue is at REEL_QUEUE_MAX; submit later
     ├── JobNotFoundError           (LookupError)        no job has that id
     ├── JobFailedError             (RuntimeError)       a job ended failed or cancelled (its error inside)
     ├── ServerError                (RuntimeError)       a `reel serve` refused a request (413, 429, 503, …): its status and message
     │    └── AuthError                                  401: no token, or one the server does not know
     └── RenderError                (RuntimeError)       an internal failure while rendering

All but RenderError are the user's to fix: the CLI prints their message on one line and
exits 2. RenderError (and anything unexpected) exits 1.

`engine.client` raises the same tree for a server's answers: 404 is JobNotFoundError,
422 a SpecError carrying every error the server listed, a failed job JobFailedError;
other refusals are ServerError (a server's own failure, 5xx, exits 1).
"""

from __future__ import annotations

__all__ = [
    "AssetError",
    "AuthError",
    "BackendUnavailableError",
    "CodecNotSupportedError",
    "EngineError",
    "InsufficientResourcesError",
    "JobFailedError",
    "JobNotFoundError",
    "OutputError",
    "QueueFullError",
    "RenderError",
    "RenderTimeoutError",
    "ServerError",
    "SettingsError",
    "SpecError",
]


class EngineError(Exception):
    """Root of Reel's errors."""

    #: Whether the user can fix this by changing their input or machine (CLI exit 2).
    user_error = True


class SpecError(EngineError, ValueError):
    """The deck does not validate. `path` is where, e.g. ``slides[3].duration``.

    `errors` lists every error found, ``{"path": ..., "message": ...}``, where a
    validator reports more than the first (a server's 422); else it is empty."""

    def __init__(self, message: str, path: str = "", errors: list[dict[str, str]] | None = None) -> None:
        self.path = path
        self.reason = message
        self.errors = list(errors or [])
        super().__init__(f"{path}: {message}" if path else message)


class AssetError(EngineError, FileNotFoundError):
    """A file the deck names is missing or cannot be decoded."""

    def __init__(self, message: str, file: object = None) -> None:
        self.file = None if file is None else str(file)
        super().__init__(message)

    def __str__(self) -> str:  # FileNotFoundError would otherwise format errno fields
        return self.args[0]


class BackendUnavailableError(EngineError, RuntimeError):
    """A backend the user named explicitly cannot start here."""


class CodecNotSupportedError(EngineError, RuntimeError):
    """No encoder that can write this codec opens on this machine."""


class InsufficientResourcesError(EngineError, OSError):
    """Disk or memory is short for this render; checked before starting."""

    def __str__(self) -> str:
        return self.args[0]


class OutputError(EngineError, OSError):
    """The output (or report) path cannot be written: it is a folder, its folder is a
    file or read-only or not ours to write, or its name is too long. `file` is the path."""

    def __init__(self, message: str, file: object = None) -> None:
        self.file = None if file is None else str(file)
        super().__init__(message)

    def __str__(self) -> str:  # OSError would otherwise format errno fields
        return self.args[0]


class RenderTimeoutError(EngineError, TimeoutError):
    """A render ran past its time limit: the whole render (--timeout, REEL_RENDER_TIMEOUT),
    or one frame of a user transition file past its budget. Nothing is left behind."""

    def __str__(self) -> str:  # OSError would otherwise format errno fields
        return self.args[0]


class RenderError(EngineError, RuntimeError):
    """Something failed inside the engine; not the user's input."""

    user_error = False


class SettingsError(EngineError, ValueError):
    """A setting has a bad value; the message names the variable or reel.toml key."""


class QueueFullError(EngineError, RuntimeError):
    """Submission refused: as many jobs are waiting as REEL_QUEUE_MAX allows."""


class JobNotFoundError(EngineError, LookupError):
    """No job with that id in this REEL_HOME."""

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return self.args[0]


class JobFailedError(EngineError, RuntimeError):
    """A job ended failed or cancelled; `error_type` is what it failed with."""

    def __init__(self, message: str, job_id: str = "", error_type: str = "", user_error: bool = True) -> None:
        self.job_id, self.error_type = job_id, error_type
        self.user_error = user_error
        super().__init__(message)


class ServerError(EngineError, RuntimeError):
    """A `reel serve` refused a request or failed it. `status` is the HTTP status (0 when
    no answer came: refused, reset, timed out);
    `retry_after` the seconds it asked the client to wait (429, 503), else None; `limit`
    the setting a 413 names (``REEL_MAX_UPLOAD_MB``), else None."""

    def __init__(self, message: str, status: int, retry_after: float | None = None, limit: str | None = None) -> None:
        self.status, self.retry_after, self.limit = status, retry_after, limit
        self.user_error = status < 500
        super().__init__(message)


class AuthError(ServerError):
    """401: the request had no token, or one the server does not know."""


def excerpt(value: object, limit: int = 40) -> str:
    """`value` as Python writes it (``'mauve'``, ``[0, 0, 256]``), cut to `limit` characters.

    For quoting a user's value in an error message. It never formats more of the value
    than it shows: a string is sliced before its repr, a list or mapping is written item
    by item until the budget runs out (an alias bomb of 10⁹ items costs a few dozen),
    a huge integer is described by its size, and any other object by its type.
    """
    parts: list[str] = []
    _write(value, parts, [limit + 1])
    text = "".join(parts)
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def _write(value: object, parts: list[str], budget: list[int]) -> None:
    """Append `value`'s repr to `parts` until `budget[0]` characters are spent."""
    if budget[0] <= 0:
        return
    if value is None or isinstance(value, (bool, float)):
        text = repr(value)
    elif isinstance(value, int):
        bits = value.bit_length()  # str() of a huge int is slow, and refused past 4300 digits
        text = repr(value) if bits <= 128 else f"<an integer of about {int(bits * 0.30103)} digits>"
    elif isinstance(value, str):
        text = repr(value[: budget[0]])
    elif isinstance(value, (list, tuple, dict)):
        opening, closing = (
            ("{", "}") if isinstance(value, dict) else ("(", ")") if isinstance(value, tuple) else ("[", "]")
        )
        parts.append(opening)
        budget[0] -= 1
        for index, item in enumerate(value.items() if isinstance(value, dict) else value):
            if budget[0] <= 0:
                return
            if index:
                parts.append(", ")
                budget[0] -= 2
            if isinstance(value, dict):
                _write(item[0], parts, budget)
                parts.append(": ")
                budget[0] -= 2
                _write(item[1], parts, budget)
            else:
                _write(item, parts, budget)
        text = ",)" if isinstance(value, tuple) and len(value) == 1 else closing
    else:  # an arbitrary object's repr could be anything, of any size
        text = f"<{type(value).__name__}>"
    parts.append(text)
    budget[0] -= len(text)
