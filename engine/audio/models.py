"""What a deck says about sound: the deck-level ``audio`` object and a slide's ``voiceover``.

In a deck::

    "audio": {
      "music": "bed.mp3",          # any file PyAV decodes: mp3, wav, m4a/aac, ogg/opus, flac
      "volume": 0.8,               # or "gain_db": -6 (not both); default 1.0 (0 dB)
      "fade_in": 1.0,              # seconds at the video's start; default 0
      "fade_out": 2.0,             # seconds at the video's end; default 0
      "loop": true,                # repeat when shorter than the video; default true
      "start": 0.0,                # seconds into the music file to begin at (each loop too)
      "duck": {"amount_db": -12, "attack": 0.15, "release": 0.4},  # or true / false
      "loudness": {"target_lufs": -14, "true_peak_db": -1}           # or true / false
    }

    "slides": [{"kind": "title", "title": "Hi", "duration": "auto", "padding": 0.5,
                "voiceover": "vo1.wav"}]          # or {"file": "vo1.wav", "gain_db": 0, "delay": 0}
                                                  # or {"say": "Hello", "voice": "en"} (espeak-ng)

``duck`` is on by default whenever there is music; ``false`` (or null) turns it off,
``true`` is the defaults. ``loudness`` is the same: on by default, normalising the
finished soundtrack to -14 LUFS integrated (the level TikTok, Reels, Shorts and
YouTube play at) with true peaks limited to -1 dBTP; ``false`` leaves the level as
mixed (the -1 dBTP limiter still runs). These models follow engine/spec.py's conventions (unknown
keys refused with a suggestion, strict numbers, paths made absolute against the deck's
folder) but import nothing from it, so spec.py can import them. Their validation
errors use spec.py's ``"reel"`` error type, so `load_deck` reports them as
``audio.duck.amount_db: must be <= 0, got 3``.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from ..specbase import AssetPath, SpecModel, Text
from ..specbase import fail as _fail

__all__ = [
    "DEFAULT_PADDING",
    "AudioSpec",
    "DuckSpec",
    "LoudnessSpec",
    "Padding",
    "Voiceover",
    "VoiceoverField",
    "auto_duration",
]

# As engine.spec.MAX_SECONDS: an hour-long fade or delay is a typo.
MAX_SECONDS = 3600.0
DEFAULT_PADDING = 0.5
# Gains are bounded so a typo ("gain_db": 600) is an error, not a blast of noise.
MIN_DB, MAX_DB = -60.0, 24.0
MAX_VOLUME = 10 ** (MAX_DB / 20)  # ≈ 15.85, the same ceiling as a linear factor
# An espeak-ng voice name: "en", "en-us", "fr", "en+f3" (a variant), "mb-en1".
VOICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_+\-]{0,39}$"


# ---------------------------------------------------------------------------------
# Field types

Decibels = Annotated[float, Field(strict=True, ge=MIN_DB, le=MAX_DB)]
Offset = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]
# Seconds of a slide left after its voiceover ends, for ``"duration": "auto"``.
Padding = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]


# The same rule as every path in a deck: relative to context["base_dir"], else cwd.
AudioFile = AssetPath


# ---------------------------------------------------------------------------------
# Models


class _AudioModel(SpecModel):
    """The deck's model conventions (engine/specbase.py)."""


class DuckSpec(_AudioModel):
    """Music lowered by `amount_db` while a voiceover speaks.

    The voiceovers' places are known before mixing, so the music starts going down
    `attack` seconds before a voice begins (fully down as it starts) and comes back
    over `release` seconds after it stops.
    """

    amount_db: Annotated[float, Field(strict=True, ge=MIN_DB, le=0)] = -12.0
    attack: Annotated[float, Field(strict=True, ge=0, le=10)] = 0.15
    release: Annotated[float, Field(strict=True, ge=0, le=10)] = 0.4


def _switch_shorthand(value: object) -> object:
    # "duck": true is the defaults, "duck": false no ducking; "loudness" alike.
    if value is True:
        return {}
    if value is False:
        return None
    return value


DuckField = Annotated[
    DuckSpec | None, BeforeValidator(_switch_shorthand, json_schema_input_type=bool | DuckSpec | None)
]


class LoudnessSpec(_AudioModel):
    """The finished soundtrack's level: `target_lufs` integrated (ITU-R BS.1770-4), true peaks <= `true_peak_db`."""

    target_lufs: Annotated[float, Field(strict=True, ge=-40, le=-5)] = -14.0
    true_peak_db: Annotated[float, Field(strict=True, ge=-9, le=0)] = -1.0


LoudnessField = Annotated[
    LoudnessSpec | None,
    BeforeValidator(_switch_shorthand, json_schema_input_type=bool | LoudnessSpec | None),
]


class AudioSpec(_AudioModel):
    """The deck's music bed (gain, fades at the video's ends, looping, ducking) and the mix's loudness."""

    music: AudioFile
    volume: Annotated[float, Field(strict=True, ge=0, le=MAX_VOLUME)] | None = None
    gain_db: Decibels | None = None
    fade_in: Offset = 0.0
    fade_out: Offset = 0.0
    loop: Annotated[bool, Field(strict=True)] = True
    start: Offset = 0.0
    duck: DuckField = Field(default_factory=DuckSpec)
    loudness: LoudnessField = Field(default_factory=LoudnessSpec)

    @model_validator(mode="after")
    def _one_gain(self) -> AudioSpec:
        if self.volume is not None and self.gain_db is not None:
            _fail("give volume (a factor) or gain_db (decibels), not both", "gain_db")
        return self

    @property
    def gain(self) -> float:
        """The music's linear gain factor."""
        if self.volume is not None:
            return self.volume
        return 10 ** ((self.gain_db or 0.0) / 20)


class Voiceover(_AudioModel):
    """A clip that starts with its slide (plus `delay` seconds), at `gain_db`: an audio
    `file`, or text to `say` in a `voice` (spoken by espeak-ng when the deck loads; see
    engine/speech.py)."""

    file: AudioFile | None = None
    say: Text | None = None
    voice: Annotated[str, Field(pattern=VOICE_PATTERN)] = "en"
    gain_db: Decibels = 0.0
    delay: Offset = 0.0

    @model_validator(mode="after")
    def _file_or_text(self) -> Voiceover:
        if (self.file is None) == (self.say is None):
            _fail("give a file to play or text to say, not both" if self.file else "give a file to play or text to say")
        if self.file is not None and "voice" in self.model_fields_set:
            _fail("voice is the voice that speaks `say`; a file is played as it is", "voice")
        return self

    @property
    def gain(self) -> float:
        return 10 ** (self.gain_db / 20)


def _voiceover_shorthand(value: object) -> object:
    # "voiceover": "vo1.wav" is {"file": "vo1.wav"}.
    if isinstance(value, (str, os.PathLike)):
        return {"file": value}
    return value


VoiceoverField = Annotated[Voiceover, BeforeValidator(_voiceover_shorthand, json_schema_input_type=str | Voiceover)]


def auto_duration(voiceover_seconds: float, padding: float = DEFAULT_PADDING, delay: float = 0.0) -> float:
    """A ``"duration": "auto"`` slide's length: its voiceover's delay + length + padding."""
    for name, value in (("voiceover_seconds", voiceover_seconds), ("padding", padding), ("delay", delay)):
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    return delay + voiceover_seconds + padding
