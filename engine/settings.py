"""Deployment settings for Reel's rendering service, read once and then passed explicitly.

Each value comes from, highest first: the environment (one named variable per field, e.g.
``MAX_CONCURRENT_VIDEOS``), then a ``reel.toml`` (``config_file``, else the file named by
``REEL_CONFIG``, else ``./reel.toml`` if present), then the default here. `load_settings`
is the only reader of the environment and the file; ``Settings(...)`` built directly takes
defaults plus keyword arguments, so tests and spawned workers see exactly what they were
handed. Every bad value raises `SettingsError` on one line naming the variable (or
reel.toml key), the value and what is allowed. Each `Settings` remembers where its values
came from, for ``reel config``.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import SettingsError
from .limits import MAX_IMAGE_PIXELS_CAP, InputLimits
from .platforms import QUALITIES

# Python 3.10 has no tomllib: only reading a reel.toml needs it. (Declared first, so that
# mypy, checking for 3.10, still checks the code that calls it.)
_load_toml: Callable[[BinaryIO], dict[str, Any]] | None = None
if sys.version_info >= (3, 11):
    import tomllib

    _load_toml = tomllib.load

__all__ = ["CONFIG_VARIABLE", "Settings", "default_home", "load_settings"]

#: The variable naming a toml file to read instead of ./reel.toml.
CONFIG_VARIABLE = "REEL_CONFIG"

_LIMITS = InputLimits()  # the input limits' defaults


def default_home(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> Path:
    """Where Reel keeps jobs and outputs when REEL_HOME is not set; not created here."""
    env = os.environ if environ is None else environ
    if env.get("XDG_DATA_HOME"):
        base = Path(env["XDG_DATA_HOME"])
    elif platform == "darwin":
        base = Path("~/Library/Application Support")
    elif platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or "~/AppData/Local")
    else:
        base = Path("~/.local/share")
    return (base / "reel").expanduser()


class Settings(BaseSettings):
    """One machine's service settings: frozen, and picklable for spawned workers."""

    model_config = SettingsConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, allow_inf_nan=False)

    # Each alias is the field's environment variable.
    max_concurrent_videos: int = Field(
        4,
        alias="MAX_CONCURRENT_VIDEOS",
        ge=1,
        le=64,
        description="most renders at once here (the executor also caps by cores, memory)",
    )
    cache_size_gb: float = Field(10.0, alias="CACHE_SIZE_GB", ge=0, description="output cache size; 0 turns it off")
    quality_preset: str = Field("standard", alias="QUALITY_PRESET", description="quality when a job names none")
    home: Path = Field(default_factory=default_home, alias="REEL_HOME", description="folder for jobs, outputs, cache")
    queue_max: int = Field(50, alias="REEL_QUEUE_MAX", ge=1, description="most jobs waiting; more are refused")
    job_timeout_s: float = Field(
        3600, alias="REEL_JOB_TIMEOUT", gt=0, description="seconds before a job's worker is stopped"
    )
    render_timeout_s: float = Field(
        0,
        alias="REEL_RENDER_TIMEOUT",
        ge=0,
        description="seconds `reel render` may take in all (--timeout); 0: no limit",
    )
    max_attempts: int = Field(
        3, alias="REEL_MAX_ATTEMPTS", ge=1, le=20, description="tries per job, the first included"
    )
    retry_backoff_s: float = Field(
        2.0, alias="REEL_RETRY_BACKOFF", ge=0, description="first retry delay; doubles each time"
    )
    worker_max_jobs: int = Field(25, alias="REEL_WORKER_MAX_JOBS", ge=1, description="jobs before a worker is recycled")
    worker_memory_limit_mb: int = Field(
        4096,
        alias="REEL_WORKER_MEMORY_LIMIT_MB",
        ge=64,
        description="RSS above which a worker is stopped and its job retried",
    )
    # What one deck may hold (engine/limits.py): each alias is "REEL_" + the name in capitals.
    max_deck_bytes: int = Field(
        _LIMITS.max_deck_bytes,
        alias="REEL_MAX_DECK_BYTES",
        ge=1,
        description="largest deck file (JSON or YAML), in bytes",
    )
    max_deck_values: int = Field(
        _LIMITS.max_deck_values,
        alias="REEL_MAX_DECK_VALUES",
        ge=1,
        description="most values in a deck, each use of a YAML alias counted",
    )
    max_string_chars: int = Field(
        _LIMITS.max_string_chars,
        alias="REEL_MAX_STRING_CHARS",
        ge=1,
        description="most characters in one string of a deck (a title, a bullet)",
    )
    max_slide_chars: int = Field(
        _LIMITS.max_slide_chars,
        alias="REEL_MAX_SLIDE_CHARS",
        ge=1,
        description="most characters in all the strings of one slide",
    )
    max_slides: int = Field(_LIMITS.max_slides, alias="REEL_MAX_SLIDES", ge=1, description="most slides in a deck")
    max_image_pixels: int = Field(
        _LIMITS.max_image_pixels,
        alias="REEL_MAX_IMAGE_PIXELS",
        ge=1,
        le=MAX_IMAGE_PIXELS_CAP,
        description="most pixels (width × height) in one image, read from its header",
    )
    max_image_bytes: int = Field(
        _LIMITS.max_image_bytes, alias="REEL_MAX_IMAGE_BYTES", ge=1, description="largest image file, in bytes"
    )
    max_audio_seconds: float = Field(
        _LIMITS.max_audio_seconds,
        alias="REEL_MAX_AUDIO_SECONDS",
        gt=0,
        description="longest music or voiceover file, in seconds (from its header)",
    )
    max_shader_bytes: int = Field(
        _LIMITS.max_shader_bytes,
        alias="REEL_MAX_SHADER_BYTES",
        ge=1,
        description="largest user transition (GLSL) file, in bytes",
    )
    # `reel serve` (docs/server.md).
    api_tokens: str = Field(
        "",
        alias="REEL_API_TOKENS",
        description="`reel serve` tokens: comma-separated sha256:<hex> or name=sha256:<hex> (`reel token`)",
    )
    max_request_mb: float = Field(200, alias="REEL_MAX_REQUEST_MB", gt=0, description="largest request body, in MB")
    max_upload_mb: float = Field(100, alias="REEL_MAX_UPLOAD_MB", gt=0, description="largest uploaded file, in MB")
    max_assets: int = Field(64, alias="REEL_MAX_ASSETS", ge=0, description="most files sent with one job")
    max_video_gigapixels: float = Field(
        200,
        alias="REEL_MAX_VIDEO_GIGAPIXELS",
        gt=0,
        description="most duration × fps × width × height of one job's outputs, ÷ 10⁹",
    )
    frame_timeout_s: float = Field(
        60,
        alias="REEL_FRAME_TIMEOUT",
        gt=0,
        description="seconds `reel serve`'s workers may go without a frame mid-render (a stuck user shader)",
    )
    rate_limit: int = Field(60, alias="REEL_RATE_LIMIT", ge=1, description="requests per minute per API token")
    allow_user_shaders: bool = Field(
        False, alias="REEL_ALLOW_USER_SHADERS", description="accept decks naming GLSL transition files (`reel serve`)"
    )
    alert_render_seconds: float = Field(
        120, alias="REEL_ALERT_RENDER_SECONDS", gt=0, description="alert: slower render"
    )
    alert_worker_rss_mb: float = Field(2048, alias="REEL_ALERT_WORKER_RSS_MB", gt=0, description="alert: larger worker")
    alert_error_rate: float = Field(
        0.05,
        alias="REEL_ALERT_ERROR_RATE",
        ge=0,
        le=1,
        description="alert: share of the last 100 finished jobs that failed",
    )
    alert_queue_depth: int = Field(50, alias="REEL_ALERT_QUEUE_DEPTH", ge=1, description="alert: more jobs waiting")
    metrics_host: str = Field("127.0.0.1", alias="REEL_METRICS_HOST", description="address metrics are served on")
    # Where jobs run (docs/cluster.md): this machine's workers, or a Ray cluster.
    executor: str = Field("local", alias="REEL_EXECUTOR", description="local (worker processes here) or ray")
    ray_address: str = Field(
        "", alias="REEL_RAY_ADDRESS", description="the Ray cluster `reel worker` submits to (host:port); empty: auto"
    )
    shared_dir: Path | None = Field(
        None,
        alias="REEL_SHARED_DIR",
        description="storage every Ray node mounts at the same path: outputs, chunks and the cache live there",
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def __init__(self, _origins: Mapping[str, tuple[str, str]] | None = None, **values: Any) -> None:
        """Validate `values` (by field name); `_origins`: field → (its source, its name in errors)."""
        origins = _origins or {}
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, values, {n: name for n, (_, name) in origins.items()})) from exc
        self._sources = {n: source for n, (source, _) in origins.items()}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments only: `load_settings` reads the layers, so it can say where each value came from."""
        return (init_settings,)

    # A validator's ValueError text is the "what is allowed" part of the SettingsError.
    @field_validator("quality_preset")
    @classmethod
    def _known_quality(cls, value: str) -> str:
        if value not in QUALITIES:
            raise ValueError(f"one of {', '.join(QUALITIES)}")
        return value

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        if value not in ("local", "ray"):
            raise ValueError("local or ray")
        return value

    @field_validator("home", "metrics_host", mode="before")
    @classmethod
    def _not_blank(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("a folder path" if info.field_name == "home" else "a host name or IP address")
        return value

    @field_validator("home")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def sources(self) -> Mapping[str, str]:
        """Field → "default", "env VARIABLE", "reel.toml (/abs/path)" or "override"."""
        given = self.model_fields_set
        fields = type(self).model_fields
        return MappingProxyType({n: self._sources.get(n, "override" if n in given else "default") for n in fields})

    @property
    def input_limits(self) -> InputLimits:
        """The REEL_MAX_* settings, for `engine.spec.load_deck`."""
        return InputLimits(**{f.name: getattr(self, f.name) for f in dataclass_fields(InputLimits)})

    @property
    def cache_bytes(self) -> int:
        """The output cache's size in bytes (0: no cache)."""
        return int(self.cache_size_gb * 1e9)

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, value, source) per field in declaration order, for ``reel config``."""
        sources = self.sources
        return [(info.alias or n, str(getattr(self, n)), sources[n]) for n, info in type(self).model_fields.items()]

    def with_overrides(self, **fields: Any) -> Settings:
        """A validated copy with `fields` replaced (CLI flags, tests); their source reads "override"."""
        for name in fields:
            if name not in type(self).model_fields:
                raise SettingsError(f"{name}: not a setting{_did_you_mean(name)}")
        values = {n: getattr(self, n) for n in type(self).model_fields} | fields
        origins = {n: (source, n) for n, source in self.sources.items()} | {n: ("override", n) for n in fields}
        return Settings(origins, **values)


def load_settings(environ: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
    """Settings from `environ` (default: os.environ) over the toml file over the defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"home": default_home(env)}
    origins = {"home": ("default", "home")}
    path = _config_path(env, config_file)
    if path is not None:
        for name, (key, value) in _read_toml(path).items():
            values[name], origins[name] = value, (f"reel.toml ({path})", f"reel.toml key {key} ({path})")
    for name, info in Settings.model_fields.items():
        if info.alias is not None and info.alias in env:
            values[name], origins[name] = env[info.alias], (f"env {info.alias}", info.alias)
    return Settings(origins, **values)


def _config_path(env: Mapping[str, str], config_file: str | Path | None) -> Path | None:
    """The toml file to read, or None; a file named explicitly must exist."""
    if config_file is not None:
        label, named = "config file", str(config_file)
    elif CONFIG_VARIABLE in env:
        label, named = CONFIG_VARIABLE, env[CONFIG_VARIABLE]
    else:
        local = Path("reel.toml")
        return local.absolute() if local.is_file() else None
    path = Path(named).expanduser()
    if not named.strip() or not path.is_file():
        raise SettingsError(f"{label}: must name an existing toml file, got {named!r}")
    return path.absolute()


def _read_toml(path: Path) -> dict[str, tuple[str, Any]]:
    """Field → (key as written, value); a key is a field name or its variable name."""
    if _load_toml is None:
        raise SettingsError(f"reel.toml ({path}): reading it needs Python 3.11+ (tomllib); use environment variables")
    try:
        with path.open("rb") as fh:
            data = _load_toml(fh)
    except OSError as exc:
        raise SettingsError(f"reel.toml ({path}): cannot read it: {exc.strerror or exc}") from exc
    except ValueError as exc:  # TOMLDecodeError, or bytes that are not UTF-8
        raise SettingsError(f"reel.toml ({path}): invalid TOML: {exc}") from exc
    fields = Settings.model_fields
    by_key = {n: n for n in fields} | {str(info.alias): n for n, info in fields.items()}
    found: dict[str, tuple[str, Any]] = {}
    for key, value in data.items():
        name = by_key.get(key)
        if name is None:
            raise SettingsError(f"reel.toml key {key} ({path}): not a setting{_did_you_mean(key)}")
        if name in found:
            raise SettingsError(f"reel.toml key {key} ({path}): same setting as {found[name][0]}; keep one")
        found[name] = (key, value)
    return found


def _did_you_mean(key: str) -> str:
    """ "; did you mean 'x'?" for the closest setting, spelt like `key` (field or VARIABLE); or ""."""
    fields = Settings.model_fields
    names = {n: n for n in fields} | {str(info.alias).lower(): n for n, info in fields.items()}
    match = difflib.get_close_matches(key.lower(), list(names), n=1)
    if not match:
        return ""
    name = names[match[0]]
    return f"; did you mean {(fields[name].alias if key.isupper() else name)!r}?"


def _explain(exc: ValidationError, values: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One line: "NAME: must be ALLOWED, got VALUE" per bad field, joined by "; "."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        problems.append(f"{names.get(field, field)}: must be {_allowed(field, error)}, got {values.get(field)!r}")
    return "; ".join(problems)


def _allowed(field: str, error: Any) -> str:
    """What `field` accepts: its validator's message, else its type and bounds."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    info = Settings.model_fields.get(field)
    if info is None:
        return "a setting name"
    kinds: dict[object, str] = {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        Path: "a folder path",
        str: "text",
    }
    kind = kinds.get(info.annotation, "valid")
    bounds = {k: getattr(m, k) for m in info.metadata for k in ("ge", "gt", "le") if hasattr(m, k)}
    if "ge" in bounds and "le" in bounds:
        return f"{kind} from {bounds['ge']} to {bounds['le']}"
    if "gt" in bounds:
        return f"{kind} greater than {bounds['gt']}"
    if "ge" in bounds:
        return f"{kind} of at least {bounds['ge']}"
    return kind
