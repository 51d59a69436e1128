"""Narration from text: a slide's ``"voiceover": {"say": "...", "voice": "en"}`` spoken.

    speech = speak("Ship it today.", "en", where="slides[2].voiceover")
    speech.wav        # a 16-bit mono WAV in the speech cache
    speech.words      # [Word("Ship", 0.0, 0.21), Word("it", 0.25, 0.37), ...] (engine.captions.Word)
    speech.seconds    # how long it speaks

The engine behind ``say`` is a `SpeechEngine` (a small protocol: a name, a version, a
reason it cannot run, and ``say(text, voice, out) -> list[Word]``); `EspeakNg` is the
one built in. It drives libespeak-ng (shipped by the Debian package espeak-ng beside
the ``espeak-ng`` command) through ctypes: the synthesizer's own word events give each
word's first sample exactly, so word starts are the synthesizer's, not a guess. A word
ends where the next one starts, less the silence before it (a comma's or a sentence's
pause); the last where the sound stops.

Speech is made once per (engine, engine version, voice, text) and kept in a cache
folder (``REEL_HOME/speech``), never beside the deck: re-renders reuse it. A deck that
says something where espeak-ng is not installed fails while loading with one line
naming the package (`AssetError`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .captions import Word
from .errors import AssetError, SpecError

__all__ = [
    "CACHE_FORMAT",
    "EspeakNg",
    "Speech",
    "SpeechEngine",
    "default_cache_dir",
    "speak",
    "word_spans",
]

#: Bumped whenever what the cache holds for the same text changes (trimming, timings).
CACHE_FORMAT = 1
#: Below this level (of full scale) a 10 ms window counts as silence, for word ends and trimming.
SILENCE = 0.01
_WINDOW_SECONDS = 0.01


class SpeechEngine(Protocol):
    """A text-to-speech engine for ``say``. `say` writes a WAV to `out` and returns each
    whitespace-separated word of `text`, in order, with its start and end in seconds of
    that WAV. `unavailable` is None when the engine can run here, else why not, naming
    what to install. `version` goes into the cache key."""

    name: str

    def unavailable(self) -> str | None: ...

    def version(self) -> str: ...

    def say(self, text: str, voice: str, out: Path) -> list[Word]: ...


@dataclass(frozen=True)
class Speech:
    """Spoken text: the WAV, its words (seconds into the WAV), and its length in seconds."""

    wav: Path
    words: tuple[Word, ...]
    seconds: float


# -- espeak-ng --------------------------------------------------------------------------

_EVENT_END_OF_LIST, _EVENT_WORD = 0, 1
_OUTPUT_SYNCHRONOUS, _POSITION_CHARACTER, _CHARS_UTF8 = 2, 1, 1


class _Event(ctypes.Structure):
    # espeak_EVENT of speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # characters from the start of the text, from 1
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # the sample the event happens at
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
# libespeak-ng keeps one synthesizer per process: one synthesis at a time.
_LOCK = threading.Lock()
_LOADED: dict[int, tuple[Any, int]] = {}  # pid -> (library, sample rate)


class EspeakNg:
    """espeak-ng through libespeak-ng: audio and word events from one synthesis.

    The ``espeak-ng`` command must be on PATH: it is how the package's presence (and
    its data folder) is found; the library of the same package does the speaking.
    """

    name = "espeak-ng"
    package = "espeak-ng"

    def __init__(self, command: str = "espeak-ng") -> None:
        self.command = command

    def unavailable(self) -> str | None:
        if shutil.which(self.command) is None:
            return f"the {self.package} command is not on PATH; install the package {self.package} (apt-get install {self.package})"
        if _library_path() is None:
            return f"libespeak-ng is not found; install the package {self.package} (apt-get install {self.package})"
        return None

    def version(self) -> str:
        command = shutil.which(self.command)
        return "missing" if command is None else _command_version(command)

    def say(self, text: str, voice: str, out: Path) -> list[Word]:
        with _LOCK:
            library, rate = _library()
            if library.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SpecError(f"espeak-ng has no voice {voice!r} (espeak-ng --voices lists them)")
            samples, events = _synthesize(library, text)
        audio = _trimmed(samples, rate)
        _write_wav(out, audio, rate)
        return _words(text, events, audio, rate)


@functools.lru_cache(maxsize=4)
def _command_version(command: str) -> str:
    try:
        done = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    # "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data"
    found = re.search(r"text-to-speech:\s*(\S+)", done.stdout)
    return found.group(1) if found else " ".join(done.stdout.split())[:80]


@functools.lru_cache(maxsize=1)
def _library_path() -> str | None:
    return ctypes.util.find_library("espeak-ng") or ("libespeak-ng.so.1" if _loads("libespeak-ng.so.1") else None)


def _loads(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def _library() -> tuple[Any, int]:
    # Initialised once per process (a forked worker initialises its own).
    pid = os.getpid()
    if pid not in _LOADED:
        path = _library_path()
        if path is None:
            raise AssetError("libespeak-ng is not found; install the package espeak-ng (apt-get install espeak-ng)")
        library = ctypes.CDLL(path)
        library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetSynthCallback.argtypes = [_Callback]
        library.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = library.espeak_Initialize(_OUTPUT_SYNCHRONOUS, 0, None, 0)
        if rate <= 0:
            raise AssetError("espeak-ng could not start (its data folder is missing?); reinstall the package espeak-ng")
        _LOADED[pid] = (library, rate)
    return _LOADED[pid]


def _synthesize(library: Any, text: str) -> tuple[Any, list[tuple[int, int, int]]]:
    """Samples (int16 values) and word events (first character from 0, characters, sample)."""
    import numpy as np

    blocks: list[Any] = []
    events: list[tuple[int, int, int]] = []

    def collect(wav: Any, count: int, event: Any) -> int:
        if count > 0:
            blocks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while event[i].type != _EVENT_END_OF_LIST:
            if event[i].type == _EVENT_WORD:
                events.append((event[i].text_position - 1, event[i].length, event[i].sample))
            i += 1
        return 0

    callback = _Callback(collect)  # kept alive until the synthesis returns
    library.espeak_SetSynthCallback(callback)
    data = text.encode()
    status = library.espeak_Synth(data, len(data) + 1, 0, _POSITION_CHARACTER, 0, _CHARS_UTF8, None, None)
    if status != 0:
        raise AssetError(f"espeak-ng failed to speak (error {status})")
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.int16)
    return samples, events


def _loud_windows(audio: Any, rate: int) -> Any:
    """Per 10 ms window of `audio`: whether its peak passes `SILENCE`."""
    import numpy as np

    window = max(1, round(rate * _WINDOW_SECONDS))
    count = -(-len(audio) // window)
    padded = np.zeros(count * window, np.float32)
    padded[: len(audio)] = np.abs(audio.astype(np.float32)) / 32768
    return padded.reshape(count, window).max(axis=1) > SILENCE


def _trimmed(samples: Any, rate: int) -> Any:
    """The speech without the silence espeak-ng leaves after the last word (20 ms kept)."""
    loud = _loud_windows(samples, rate)
    if not loud.any():
        return samples
    window = max(1, round(rate * _WINDOW_SECONDS))
    end = (int(loud.nonzero()[0][-1]) + 1) * window + round(rate * 0.02)
    return samples[: min(len(samples), end)]


def _write_wav(out: Path, audio: Any, rate: int) -> None:
    with wave.open(str(out), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(audio.astype("<i2").tobytes())


def word_spans(text: str) -> list[tuple[int, int]]:
    """(first character, end) of each whitespace-separated word of `text`: the words captions count."""
    spans, start = [], None
    for i, char in enumerate(text + " "):
        if char.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    return spans


def _words(text: str, events: Sequence[tuple[int, int, int]], audio: Any, rate: int) -> list[Word]:
    """Each word of `text` timed: its start is the sample of the first word event inside it
    (espeak-ng may split a word: "2026" into four); its end is the next word's start, less
    the silence before it, or the end of the sound for the last word. A word espeak-ng says
    nothing for (a lone dash) fills the gap between its neighbours."""
    spans = word_spans(text)
    starts: list[int | None] = []
    for first, end in spans:
        inside = [sample for position, length, sample in events if position < end and position + max(length, 1) > first]
        starts.append(min(min(inside), len(audio)) if inside else None)
    loud = _loud_windows(audio, rate)
    window = max(1, round(rate * _WINDOW_SECONDS))

    def sound_ends_before(limit: int, floor: int) -> int:
        last = min(len(loud), -(-limit // window)) - 1
        while last >= 0 and last * window >= floor and not loud[last]:
            last -= 1
        return max(floor, min(limit, (last + 1) * window))

    def next_start(i: int, after: int) -> int:
        later = [s for s in starts[i + 1 :] if s is not None and s > after]
        return later[0] if later else len(audio)

    bounds: list[tuple[int, int] | None] = []
    for i, start in enumerate(starts):
        if start is None:
            bounds.append(None)
            continue
        following = next_start(i, start)
        stop = sound_ends_before(following, start)
        bounds.append((start, stop if stop > start else max(following, start + 1)))  # said with the next
    words: list[Word] = []
    for i, (first, end) in enumerate(spans):
        timed = bounds[i]
        if timed is None:
            begin = words[-1].end * rate if words else 0
            timed = (round(begin), max(round(begin), next_start(i, -1)))
        words.append(Word(text[first:end], timed[0] / rate, timed[1] / rate))
    return words


# -- the cache ---------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where speech is kept: ``REEL_HOME/speech`` (REEL_HOME from the environment or reel.toml)."""
    from .settings import load_settings

    return load_settings().home / "speech"


def speak(
    text: str,
    voice: str,
    *,
    where: str = "voiceover",
    cache_dir: Path | None = None,
    engine: SpeechEngine | None = None,
) -> Speech:
    """`text` spoken in `voice`, from the cache when it was spoken before.

    Raises AssetError (one line, naming the package) when the engine cannot run here,
    SpecError for a voice it does not have.
    """
    engine = EspeakNg() if engine is None else engine
    reason = engine.unavailable()
    if reason is not None:
        raise AssetError(f"{where}: speaking text needs {engine.name}: {reason}")
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    key = hashlib.sha256(
        json.dumps([engine.name, engine.version(), CACHE_FORMAT, voice, text], ensure_ascii=False).encode()
    ).hexdigest()[:32]
    wav, meta = folder / f"{key}.wav", folder / f"{key}.json"
    cached = _read_cached(wav, meta)
    if cached is not None:
        return cached
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".speaking-") as scratch:
            fresh = Path(scratch) / "speech.wav"
            words = engine.say(text, voice, fresh)
            with wave.open(str(fresh), "rb") as file:
                seconds = file.getnframes() / file.getframerate()
            record = {"seconds": seconds, "words": [[w.text, w.start, w.end] for w in words]}
            (Path(scratch) / "speech.json").write_text(json.dumps(record, ensure_ascii=False))
            os.replace(fresh, wav)  # the WAV first: a cache entry counts only with its JSON
            os.replace(Path(scratch) / "speech.json", meta)
    except OSError as exc:
        if isinstance(exc, AssetError):
            raise
        raise AssetError(f"{where}: cannot write speech to the cache {folder}: {exc.strerror or exc}", folder) from exc
    return Speech(wav, tuple(words), seconds)


def _read_cached(wav: Path, meta: Path) -> Speech | None:
    try:
        record = json.loads(meta.read_text())
        if not wav.is_file():
            return None
        words = tuple(Word(str(text), float(start), float(end)) for text, start, end in record["words"])
        return Speech(wav, words, float(record["seconds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
