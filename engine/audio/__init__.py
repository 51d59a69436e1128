"""Sound for a rendered video: a music bed, per-slide voiceovers, ducking, AAC in the MP4.

A stage that runs beside the video's (the soundtrack needs only its length), muxed in after::

    from engine.audio import AudioPlan, VoiceoverCue, mux_audio
    plan = AudioPlan(music=deck.audio, voiceovers=[VoiceoverCue(start, slide.voiceover, "slides[2].voiceover")])
    plan.check()                                  # before rendering: AssetError for a bad file
    stats = mux_audio("video.mp4", "final.mp4", plan)

    models.py    the deck's ``audio`` object and a slide's ``voiceover`` (pydantic, spec.py's rules)
    decode.py    any file PyAV reads → 48 kHz float32 stereo blocks, on demand; voiceover lengths
    mix.py       AudioPlan → blocks: gain, fades, loop/trim, voiceovers to the sample, ducking, loudness
    loudness.py  ITU-R BS.1770-4 in numpy: K-weighting, gated integrated LUFS, 4× true peak
    limiter.py   look-ahead true-peak limiter (5 ms look-ahead, 60 ms release), the mix's last stage
    mux.py       the soundtrack encoded (AAC 48 kHz stereo) on its own, on a thread while the video
                 renders; then video and audio packets copied into one file, +faststart, atomically

PyAV is imported only when a file is decoded or written.
"""

from .clip import ClipCue, ClipSound
from .decode import SAMPLE_RATE, AudioReader, probe_audio, voiceover_duration
from .limiter import Limiter
from .loudness import LoudnessMeter, measure
from .mix import AudioPlan, MixStats, VoiceoverCue, mix
from .models import (
    DEFAULT_PADDING,
    AudioSpec,
    DuckSpec,
    LoudnessSpec,
    Padding,
    Voiceover,
    VoiceoverField,
    auto_duration,
)
from .mux import (
    DEFAULT_AUDIO_BIT_RATE,
    AudioStats,
    BackgroundSoundtrack,
    EncodedSoundtrack,
    encode_soundtrack,
    mux_audio,
    mux_soundtrack,
    soundtrack_in_background,
)

__all__ = [
    "DEFAULT_AUDIO_BIT_RATE",
    "DEFAULT_PADDING",
    "SAMPLE_RATE",
    "AudioPlan",
    "AudioReader",
    "AudioSpec",
    "AudioStats",
    "BackgroundSoundtrack",
    "ClipCue",
    "ClipSound",
    "DuckSpec",
    "EncodedSoundtrack",
    "Limiter",
    "LoudnessMeter",
    "LoudnessSpec",
    "MixStats",
    "Padding",
    "Voiceover",
    "VoiceoverCue",
    "VoiceoverField",
    "auto_duration",
    "encode_soundtrack",
    "measure",
    "mix",
    "mux_audio",
    "mux_soundtrack",
    "probe_audio",
    "soundtrack_in_background",
    "voiceover_duration",
]
