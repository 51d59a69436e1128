"""A job as it arrives: its files written to its own upload folder, its deck checked there.

Everything a client sends lands in ``REEL_HOME/uploads/.incoming-<id>/`` first; only a
job that passes every check is renamed to ``uploads/<id>/`` and queued, so a refused
job leaves nothing behind. The checks, in the order they cost:

- how many files and how large each is (REEL_MAX_ASSETS, REEL_MAX_UPLOAD_MB; the whole
  body was bounded by REEL_MAX_REQUEST_MB before it was read);
- every name: relative, without ``..``, no symlinks in a zip, nothing outside the folder;
- the deck, validated with `base_dir` = the folder and every path confined to it, each
  of its errors reported with its JSON path; user shaders refused unless
  REEL_ALLOW_USER_SHADERS;
- the files it names, from their headers (pixels, audio length: `engine.deckfile`);
- the video it asks for: duration × fps × pixels ≤ REEL_MAX_VIDEO_GIGAPIXELS.

A refusal is a `Refusal`: the HTTP status and the JSON body to answer with.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from pydantic import ValidationError

from ..deckfile import check_files, read_deck_file
from ..errors import AssetError, JobNotFoundError, SpecError
from ..jobs import JobRecord, JobStore, OutputRequest, RenderJob
from ..jobs.model import new_job_id
from ..limits import check_deck_values
from ..platforms import resolve_output
from ..settings import Settings
from ..spec import SLIDE_KINDS, Deck
from ..specbase import confined_problem, spec_errors

__all__ = ["JobForm", "Refusal", "Upload", "accept_job", "sweep_uploads", "upload_folder"]

_DECK_SUFFIXES = (".json", ".yaml", ".yml")
_LIMIT = re.compile(r"\bREEL_MAX_[A-Z_]+\b")
_CHUNK = 1 << 20


class Refusal(Exception):
    """Why a job is not accepted: `status` and the JSON `body` to answer with."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body.get("error") or body)
        self.status, self.body = status, body

    @classmethod
    def too_large(cls, message: str, limit: str) -> Refusal:
        return cls(413, {"error": message, "limit": limit})

    @classmethod
    def invalid(cls, errors: Iterable[tuple[str, str]]) -> Refusal:
        return cls(422, {"errors": [{"path": p, "message": m} for p, m in errors]})


@dataclass(frozen=True)
class Upload:
    """One file part of the request: the name the client gave it, and its bytes."""

    name: str
    file: BinaryIO
    size: int | None = None


@dataclass(frozen=True)
class JobForm:
    """What `POST /v1/jobs` sent: exactly one of `deck` and `bundle`, the options as text."""

    deck: Upload | None
    bundle: Upload | None
    assets: list[Upload]
    platforms: list[str]
    quality: str | None = None
    codec: str | None = None
    thumbnail: bool = True
    skip_holds: bool = True
    format: str = "mp4"


def upload_folder(home: Path, job_id: str) -> Path:
    return home / "uploads" / job_id


def sweep_uploads(home: Path, store: JobStore, *, orphan_age: float = 600.0) -> list[str]:
    """Delete the upload folders of finished jobs; return their ids.

    A job's deck and assets are needed until it reaches a final state (a retry reads them
    again); its outputs live elsewhere. A folder with no job, or a staging folder, is a
    refused or interrupted upload: removed once `orphan_age` seconds old, so an upload
    that is being accepted right now is never touched.
    """
    uploads = home / "uploads"
    try:
        entries = list(os.scandir(uploads))
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        record = None if entry.name.startswith(".incoming-") else _job_of(store, entry.name)
        if record is not None and not record.final:
            continue
        if record is None:
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < orphan_age:
                    continue
            except FileNotFoundError:
                continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _job_of(store: JobStore, job_id: str) -> JobRecord | None:
    try:
        return store.get(job_id)
    except JobNotFoundError:
        return None


def accept_job(form: JobForm, settings: Settings) -> RenderJob:
    """The job `form` asks for, its files in its upload folder; `Refusal` for anything wrong."""
    job_id = new_job_id()
    staging = settings.home / "uploads" / f".incoming-{job_id}"
    staging.mkdir(parents=True)
    try:
        deck_file = _receive(form, staging, settings)
        outputs = _outputs(form, settings)
        deck = _check_deck(deck_file, staging, settings)
        _check_video(deck, outputs, settings)
        final = upload_folder(settings.home, job_id)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RenderJob(
        tuple(outputs),
        deck_file=str(final / deck_file.name),
        out_dir=str(settings.home / "outputs" / job_id),
        thumbnail=form.thumbnail,
        id=job_id,
    )


# -- files ---------------------------------------------------------------------------


def _receive(form: JobForm, folder: Path, settings: Settings) -> Path:
    """Write the deck and its assets into `folder`; the deck file."""
    either = "send the deck as `deck` (a .json or .yaml file) or one `bundle` (.zip), not both"
    if form.bundle is not None:
        if form.deck is not None:
            raise Refusal.invalid([("deck", either)])
        if form.assets:
            raise Refusal.invalid([("assets", "a bundle holds the deck's assets; send them inside it, not beside it")])
        return _unzip(form.bundle, folder, settings)
    deck = form.deck
    if deck is None:
        raise Refusal.invalid([("deck", either)])
    if len(form.assets) > settings.max_assets:
        raise Refusal.too_large(
            f"{len(form.assets)} assets; at most {settings.max_assets} (REEL_MAX_ASSETS)", "REEL_MAX_ASSETS"
        )
    name = _deck_name(deck.name)
    _write(deck, folder / name, settings)
    for asset in form.assets:
        relative = _relative(asset.name)
        if relative == PurePosixPath(name):
            raise Refusal.invalid([(asset.name, "an asset cannot have the deck's own name")])
        _write(asset, folder / relative, settings)
    return folder / name


def _deck_name(sent: str) -> str:
    stem, suffix = os.path.splitext(os.path.basename(sent.replace("\\", "/")) or "deck.json")
    if suffix.lower() not in _DECK_SUFFIXES:
        raise Refusal.invalid([("deck", f"{sent!r}: the deck must be a .json, .yaml or .yml file")])
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "deck") + suffix.lower()


def _relative(name: str) -> PurePosixPath:
    """`name` as a path inside the upload; Refusal if it is absolute or climbs out."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or re.match(r"^[A-Za-z]:", name) or name.startswith("~"):
        raise Refusal.invalid(
            [(name, "an asset's name must be a path relative to the deck; absolute paths are refused")]
        )
    if ".." in path.parts or "\0" in name:
        raise Refusal.invalid([(name, "an asset's name must stay inside the deck's upload; '..' is refused")])
    if path == PurePosixPath("."):
        raise Refusal.invalid([(name, "an asset needs a file name")])
    return path


def _write(upload: Upload, target: Path, settings: Settings) -> None:
    limit = int(settings.max_upload_mb * 1e6)
    if upload.size is not None and upload.size > limit:
        raise _upload_too_large(upload.name, settings)
    if target.exists():
        raise Refusal.invalid([(upload.name, "sent twice")])
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(upload.file, target, limit, lambda: _upload_too_large(upload.name, settings))


def _copy(source: IO[bytes], target: Path, limit: int, too_large) -> int:
    written = 0
    with open(target, "xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise too_large()
            out.write(chunk)
    return written


def _upload_too_large(name: str, settings: Settings) -> Refusal:
    return Refusal.too_large(
        f"{name}: larger than {settings.max_upload_mb:g} MB (REEL_MAX_UPLOAD_MB)", "REEL_MAX_UPLOAD_MB"
    )


def _unzip(bundle: Upload, folder: Path, settings: Settings) -> Path:
    """Extract `bundle` into `folder`, entry by entry, refusing links and names that climb out."""
    if bundle.size is not None and bundle.size > settings.max_upload_mb * 1e6:
        raise _upload_too_large(bundle.name, settings)
    try:
        archive = zipfile.ZipFile(bundle.file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Refusal.invalid([("bundle", f"not a zip file: {exc}")]) from exc
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        for entry in entries:  # every name is checked before any is written
            _relative(entry.filename)
            if stat.S_ISLNK(entry.external_attr >> 16):
                raise Refusal.invalid([(entry.filename, "a symlink in the bundle is refused; send the file itself")])
        if len(entries) > settings.max_assets + 1:
            raise Refusal.too_large(
                f"{len(entries) - 1} assets in the bundle; at most {settings.max_assets} (REEL_MAX_ASSETS)",
                "REEL_MAX_ASSETS",
            )
        budget = int(settings.max_request_mb * 1e6)  # all entries together, as sent in one request
        for entry in entries:
            target = folder / _relative(entry.filename)
            if target.exists():
                raise Refusal.invalid([(entry.filename, "in the bundle twice")])
            target.parent.mkdir(parents=True, exist_ok=True)
            limit = min(int(settings.max_upload_mb * 1e6), budget)
            with archive.open(entry) as source:
                budget -= _copy(source, target, limit, lambda e=entry: _upload_too_large(e.filename, settings))
    return _bundle_deck(folder, [_relative(e.filename) for e in entries])


def _bundle_deck(folder: Path, names: list[PurePosixPath]) -> Path:
    top = [n for n in names if len(n.parts) == 1 and n.suffix.lower() in _DECK_SUFFIXES]
    for preferred in ("deck.json", "deck.yaml", "deck.yml"):
        if PurePosixPath(preferred) in top:
            return folder / preferred
    if len(top) == 1:
        return folder / top[0]
    found = ", ".join(str(n) for n in top) or "none"
    raise Refusal.invalid(
        [("bundle", f"put the deck at the zip's top as deck.json or deck.yaml (top-level decks: {found})")]
    )


# -- the deck ------------------------------------------------------------------------


def _check_deck(deck_file: Path, folder: Path, settings: Settings) -> Deck:
    limits = settings.input_limits
    try:
        data = read_deck_file(deck_file, limits)
        check_deck_values(data, limits)
    except (SpecError, AssetError) as exc:
        raise _refusal(exc, deck_file.name) from exc
    context = {"base_dir": folder, "source": deck_file, "limits": limits, "confine_to": folder}
    try:
        deck = Deck.model_validate(data, context=context)
    except ValidationError as exc:
        raise Refusal.invalid(spec_errors(exc, data, SLIDE_KINDS)) from exc
    except AssetError as exc:  # a voiceover measured during validation
        raise _refusal(exc, "") from exc
    except RecursionError as exc:
        raise Refusal.invalid([("", "the deck is nested too deeply")]) from exc
    files = deck.asset_files()
    problems = [
        (where, f"{path.relative_to(folder) if path.is_relative_to(folder) else path}: {problem}")
        for where, path, _ in files
        if (problem := confined_problem(path, folder)) is not None
    ]
    if problems:
        raise Refusal.invalid(problems)
    if not settings.allow_user_shaders:
        shaders = [
            (where, f"{path.relative_to(folder)}: user shader files are off on this server (REEL_ALLOW_USER_SHADERS)")
            for where, path, what in files
            if what == "transition file"
        ]
        if shaders:
            raise Refusal.invalid(shaders)
    try:
        check_files(files, limits)
    except (SpecError, AssetError) as exc:
        raise _refusal(exc, "") from exc
    return deck


def _refusal(exc: SpecError | AssetError, where: str) -> Refusal:
    """413 for an error that names the REEL_MAX_* setting it passed, else 422; paths shown relative."""
    message = str(exc)
    limit = _LIMIT.search(message)
    if limit is not None:
        return Refusal.too_large(message, limit[0])
    path = exc.path if isinstance(exc, SpecError) else where
    return Refusal.invalid([(path, exc.reason if isinstance(exc, SpecError) else message)])


# -- what to make --------------------------------------------------------------------


def _outputs(form: JobForm, settings: Settings) -> list[OutputRequest]:
    names = [n.strip() for field in form.platforms for n in field.split(",") if n.strip()] or ["youtube"]
    quality = form.quality or settings.quality_preset
    requests, errors = [], []
    for name in names:
        try:
            request = OutputRequest(
                platform=name, quality=quality, codec=form.codec or None, skip_holds=form.skip_holds, format=form.format
            )
            resolve_output(request.platform, request.quality, request.codec)
        except (SpecError, KeyError, ValueError) as exc:
            where = exc.path if isinstance(exc, SpecError) and exc.path == "format" else "platform"
            errors.append((where, str(getattr(exc, "reason", exc))))
            continue
        requests.append(request)
    if errors:
        raise Refusal.invalid(errors)
    return requests


def _check_video(deck: Deck, outputs: list[OutputRequest], settings: Settings) -> None:
    seconds = deck.total_duration()
    pixels = 0.0
    for request in outputs:
        out = resolve_output(request.platform, request.quality, request.codec)
        pixels += seconds * out.fps * out.width * out.height
    if pixels / 1e9 > settings.max_video_gigapixels:
        raise Refusal.too_large(
            f"the outputs hold {pixels / 1e9:.3g} gigapixels (duration × fps × width × height); "
            f"at most {settings.max_video_gigapixels:g} (REEL_MAX_VIDEO_GIGAPIXELS)",
            "REEL_MAX_VIDEO_GIGAPIXELS",
        )
