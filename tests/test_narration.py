"""Narration from text (engine/speech.py): a slide's ``"voiceover": {"say": ...}`` spoken by
espeak-ng into a cached WAV with word timings, mixed into the MP4, an ``"auto"`` slide as long
as the speech, karaoke captions from its words, and a one-line error without espeak-ng."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from engine import cli
from engine.caption_burn import CaptionOverlay
from engine.captions import first_frame_at
from engine.doctor import diagnose_speech
from engine.errors import AssetError, SpecError
from engine.pipeline import render_output
from engine.platforms import resolve_output
from engine.spec import load_deck
from engine.speech import EspeakNg, speak, word_spans

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

SMALL = "320x180@10"
SAID = "Hello world, this is Reel. Ship it today."


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    # The speech cache lives in REEL_HOME/speech: one per test.
    monkeypatch.setenv("REEL_HOME", str(tmp_path / "home"))


def _wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as file:
        return np.frombuffer(file.readframes(file.getnframes()), np.int16).astype(
            np.float64
        ) / 32768, file.getframerate()


def _loud(audio: np.ndarray, rate: int, window: float = 0.005) -> np.ndarray:
    size = round(rate * window)
    return np.abs(audio[: len(audio) // size * size]).reshape(-1, size).max(axis=1) > 0.01


def _deck(**captions: object) -> dict:
    return {
        "theme": {"background": "#1e5078"},
        "defaults": {"transition": "cut"},
        **({"captions": captions} if captions else {}),
        "slides": [
            {"kind": "title", "title": "Narrated", "duration": "auto", "padding": 0.3, "voiceover": {"say": SAID}},
            {"kind": "title", "title": "Quiet", "duration": 1.0},
        ],
    }


def test_speech_times_every_word_and_starts_words_where_the_sound_starts(tmp_path):
    speech = speak(SAID, "en", cache_dir=tmp_path)
    audio, rate = _wav(speech.wav)
    assert speech.seconds == pytest.approx(len(audio) / rate)
    assert [w.text for w in speech.words] == SAID.split()
    starts = [w.start for w in speech.words]
    assert starts == sorted(starts) and starts[0] == 0.0
    assert all(w.start < w.end <= speech.seconds + 1e-9 for w in speech.words)
    # After a pause (a comma, a full stop) the next word starts where the sound comes back,
    # within 20 ms: the synthesizer's word events are its own sample positions.
    loud = _loud(audio, rate)
    after_pause = [w for prev, w in zip(speech.words, speech.words[1:], strict=False) if w.start - prev.end > 0.05]
    assert len(after_pause) == 2  # "this", "Ship"
    for word in after_pause:
        onset = next(i for i in range(int(word.start * 200) - 8, len(loud)) if loud[i]) * 0.005
        assert abs(onset - word.start) <= 0.02, (word, onset)
    # The sound ends with the last word, not seconds of silence after it.
    assert speech.seconds - speech.words[-1].end < 0.05


def test_a_word_espeak_splits_is_timed_once_and_punctuation_stays_with_its_word(tmp_path):
    speech = speak("Launch in 2026 — today!", "en", cache_dir=tmp_path)
    assert [w.text for w in speech.words] == ["Launch", "in", "2026", "—", "today!"]
    assert [w.start for w in speech.words] == sorted(w.start for w in speech.words)
    assert speech.words[2].end - speech.words[2].start > 0.5  # "two thousand and twenty six"
    assert word_spans(" a  bc\nd ") == [(1, 2), (4, 6), (7, 8)]


def test_narration_is_in_the_mp4_and_the_auto_slide_lasts_as_long_as_the_speech(tmp_path):
    deck = load_deck(_deck(), base_dir=tmp_path)
    speech = deck.narration(0)
    assert speech is not None and deck.narration(1) is None
    assert deck.slide_duration(0) == pytest.approx(speech.seconds + 0.3)
    report = render_output(deck, resolve_output(SMALL), tmp_path / "n.mp4", compositor="cpu")
    assert report.frames == round((speech.seconds + 0.3 + 1.0) * 10)

    with av.open(str(tmp_path / "n.mp4")) as container:
        video = container.streams.video[0]
        assert video.frames == report.frames
        rate = container.streams.audio[0].rate
        sound = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    tenth = rate // 10

    def level(start: float, end: float) -> float:
        part = sound[int(start * rate) : int(end * rate)]
        return float(np.sqrt(np.mean(part**2)))

    assert level(0.0, speech.seconds) > 0.02  # speaking
    assert level(speech.seconds + 0.15, speech.seconds + 1.2) < 0.002  # the quiet slide
    # Where the WAV speaks, the decoded AAC does: their 100 ms envelopes move together.
    wav, wav_rate = _wav(speech.wav)
    count = int(speech.seconds * 10)
    ours = [np.sqrt(np.mean(sound[i * tenth : (i + 1) * tenth] ** 2)) for i in range(count)]
    step = wav_rate // 10
    theirs = [np.sqrt(np.mean(wav[i * step : (i + 1) * step] ** 2)) for i in range(count)]
    assert np.corrcoef(ours, theirs)[0, 1] > 0.9


def test_captions_from_narration_highlight_each_word_as_it_is_said(tmp_path):
    data = _deck(**{"from": "narration", "sidecar": False})
    data["theme"]["captions"] = {"size": 0.14, "highlight": "#ff2020"}
    deck = load_deck(data, base_dir=tmp_path)
    speech = deck.narration(0)
    assert speech is not None
    starts = [0.0, deck.slide_duration(0)]
    cues = deck.caption_cues(starts, deck.total_duration())
    assert [c.text for c in cues] == ["Hello world, this is Reel.", "Ship it today."]
    said = [(cue.tokens[token], start) for cue in cues for token, start in cue.words]
    assert said == [(w.text, w.start) for w in speech.words]
    # Moved with the slide: the same words on a second slide start where it does.
    data = _deck(**{"from": "narration"})
    data["slides"].reverse()
    later = load_deck(data, base_dir=tmp_path).caption_cues([0.0, 1.0], 10.0)
    assert [s for cue in later for _, s in cue.words] == pytest.approx([1.0 + w.start for w in speech.words])

    # Burned in: each word turns the highlight colour on the frame its speech starts.
    output = resolve_output(SMALL)
    report = render_output(deck, output, tmp_path / "k.mp4", compositor="cpu")
    assert not (tmp_path / "k.srt").exists()
    with av.open(str(tmp_path / "k.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(frames) == report.frames
    overlay = CaptionOverlay(cues, deck.theme, output)
    checked = 0
    for index, cue in enumerate(cues):
        for token, start in cue.words:
            frame = first_frame_at(start, output.fps)
            if token == 0 or frame - first_frame_at(cue.words[token - 1][1], output.fps) < 2:
                continue  # the word before it lit on the frame before: nothing to compare with
            plain, lit = overlay.patch(index, None), overlay.patch(index, token)
            ys, xs = np.nonzero(np.abs(plain.rgba.astype(int) - lit.rgba.astype(int)).max(axis=2) > 60)
            place = (ys + lit.y, xs + lit.x)
            before, at = frames[frame - 1][place].mean(axis=0), frames[frame][place].mean(axis=0)
            assert at[0] - at[1] > 40 and before[0] - before[1] < 15, (
                cue.tokens[token],
                before,
                at,
            )  # red from its start
            checked += 1
    assert checked >= 3


def test_said_text_is_spoken_once_into_the_cache_and_reused(tmp_path, monkeypatch):
    deck_file = tmp_path / "deck" / "talk.json"
    deck_file.parent.mkdir()
    deck_file.write_text(json.dumps(_deck()))
    first = load_deck(deck_file).narration(0)
    assert first is not None
    assert first.wav.parent == tmp_path / "home" / "speech"
    assert sorted(p.name for p in deck_file.parent.iterdir()) == ["talk.json"]  # nothing beside the deck
    made = first.wav.stat().st_mtime_ns

    def refuse(*args, **kwargs):
        raise AssertionError("spoken again")

    monkeypatch.setattr(EspeakNg, "say", refuse)
    again = load_deck(deck_file).narration(0)
    assert again == first and again.wav.stat().st_mtime_ns == made
    with pytest.raises(AssertionError, match="spoken again"):  # other text is new speech
        speak("Something else.", "en")


def test_without_espeak_a_deck_that_says_text_fails_before_rendering_naming_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AssetError, match=r"^slides\[0\]\.voiceover\.say: .*install the package espeak-ng"):
        load_deck(_deck(), base_dir=tmp_path)
    deck_file = tmp_path / "talk.json"
    deck_file.write_text(json.dumps(_deck()))
    out = tmp_path / "never.mp4"
    assert cli.main(["render", str(deck_file), "-p", SMALL, "-o", str(out), "--compositor", "cpu"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "espeak-ng" in error
    assert not out.exists()
    assert "install the package espeak-ng" in diagnose_speech()["espeak-ng"]
    # A deck whose voiceovers are files does not need it.
    load_deck({"slides": [{"kind": "title", "title": "Hi"}]})


def test_doctor_says_espeak_speaks_with_word_timings():
    assert diagnose_speech()["espeak-ng"].startswith("works (with word timings): espeak-ng 1.")


@pytest.mark.parametrize(
    ("voiceover", "path", "message"),
    [
        ({"say": "Hi", "file": "a.wav"}, "slides[0].voiceover", "not both"),
        ({"gain_db": -3}, "slides[0].voiceover", "a file to play or text to say"),
        ({"file": "a.wav", "voice": "fr"}, "slides[0].voiceover.voice", "voice is the voice that speaks"),
        ({"say": "Hi", "voice": "xx-nowhere"}, "slides[0].voiceover.voice", "espeak-ng has no voice 'xx-nowhere'"),
        ({"say": "Hi", "voice": "en; rm"}, "slides[0].voiceover.voice", ""),
        ({"say": "  "}, "slides[0].voiceover.say", ""),
    ],
)
def test_a_voiceover_is_a_file_or_text_in_a_voice_espeak_has(tmp_path, voiceover, path, message):
    with pytest.raises(SpecError) as caught:
        load_deck({"slides": [{"kind": "title", "title": "Hi", "voiceover": voiceover}]}, base_dir=tmp_path)
    assert str(caught.value).startswith(path + ":") and message in str(caught.value)


def test_captions_from_narration_need_a_slide_that_says_something(tmp_path):
    with pytest.raises(SpecError, match=r"^captions\.from: .*no slide has a voiceover with say"):
        load_deck({"captions": {"from": "narration"}, "slides": [{"kind": "title", "title": "Hi"}]})


def test_the_launch_example_is_narrated_with_captions_from_its_speech_and_lasts_20_to_30_seconds(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "launch.yaml"
    data = yaml.safe_load(example.read_text())
    data.pop("audio")  # its music bed is made by `make setup` (examples/make_sound.py)
    deck = load_deck(data, base_dir=example.parent)
    assert deck.captions is not None and deck.captions.from_ == "narration"
    assert all(deck.narration(i) is not None for i in range(len(deck.slides)))
    assert 20 <= deck.total_duration() <= 30
    cues = deck.caption_cues([0.0] * len(deck.slides), deck.total_duration())
    assert all(len(cue.text) <= 42 and cue.words for cue in cues)
