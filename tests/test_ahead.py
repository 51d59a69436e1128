"""Slides made ahead on a thread of their own (engine.ahead): the same video, sooner."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

import engine.pipeline
from engine.ahead import Made, SlidesAhead
from engine.api import render
from engine.colour import nv12_size
from engine.composite import FrameSpec
from engine.composite.cpu import CPUCompositor
from engine.errors import AssetError
from engine.frames import SlideSource, deck_timeline
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import Hold

WIDTH, HEIGHT, FPS = 320, 180, 15
PLATFORM = f"{WIDTH}x{HEIGHT}@{FPS}"
GRADIENT = {"gradient": {"from": "#10243a", "to": "#0f7060", "direction": "diagonal"}}
_BUILD = {"style": "rise", "duration": 0.6, "delay": 0.0}


def _deck() -> dict:
    """Still, building, revealing and pushed slides on one background, and a wipe."""
    chart = {"type": "bar", "labels": ["Mon", "Tue", "Wed"], "values": [1850, 1860, 1810], "reveal": 0.8}
    return {
        "theme": {"background": GRADIENT, "text_color": "#ffffff", "accent": "#ffb547"},
        "slides": [
            {"kind": "title", "title": "1,860 kcal", "duration": 1.0},
            {
                "kind": "bullets",
                "title": "Plan",
                "bullets": ["Oats", "Salad"],
                "motion": {"build": _BUILD},
                "duration": 1.2,
                "transition": {"name": "slideleft", "duration": 0.4},
            },
            {
                "kind": "chart",
                "title": "Kcal",
                "chart": chart,
                "duration": 1.2,
                "transition": {"name": "fade", "duration": 0.4},
            },
            {
                "kind": "title",
                "title": "Done",
                "duration": 1.0,
                "transition": {"name": "wipeleft", "duration": 0.4},
            },
        ],
    }


def _without_ahead(monkeypatch) -> None:
    """Renders from here on make every slide on the render thread, when it is first shown."""
    real = engine.pipeline.SlideSource

    def synchronous(*args, **kwargs):
        return real(*args, **{**kwargs, "ahead": False})

    monkeypatch.setattr(engine.pipeline, "SlideSource", synchronous)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("compositor", "backs"), [("cpu", [False, True]), ("gl", [False, False])])
def test_slides_made_ahead_give_the_very_same_video(compositor, backs, tmp_path, monkeypatch):
    """The slides, and a push's silhouettes, are made on the worker thread, and the file
    is byte for byte the one made with everything rasterized on the render thread."""
    made_on: list[str] = []
    real_make = SlidesAhead._make

    def spying(self, index):
        made_on.append(threading.current_thread().name)
        return real_make(self, index)

    silhouettes: list[Made] = []
    real_silhouettes = SlidesAhead._silhouettes

    def spying_silhouettes(self, index, backs):
        made = real_silhouettes(self, index, backs)
        silhouettes.append(made)
        return made

    monkeypatch.setattr(SlidesAhead, "_make", spying)
    monkeypatch.setattr(SlidesAhead, "_silhouettes", spying_silhouettes)
    ahead = render(_deck(), tmp_path / "ahead.mp4", platform=PLATFORM, compositor=compositor)
    assert len(made_on) >= 3 and all(name.startswith("reel-ahead") for name in made_on)
    # The push's two slides: the still title's silhouettes whole, the building slide's
    # backs alone where the compositor makes the rest from its planes (numpy's).
    assert sorted(made.backs for made in silhouettes) == backs
    assert all(made.prepared == (compositor == "cpu") for made in silhouettes)

    _without_ahead(monkeypatch)
    made_on.clear()
    alone = render(_deck(), tmp_path / "alone.mp4", platform=PLATFORM, compositor=compositor)
    assert made_on == [] and len(silhouettes) == 2
    assert ahead.frames == alone.frames and ahead.slides_uploaded == alone.slides_uploaded
    assert _sha(tmp_path / "ahead.mp4") == _sha(tmp_path / "alone.mp4")


def test_a_slide_that_fails_ahead_fails_the_render_with_its_own_error(tmp_path, monkeypatch):
    """What making a slide raised reaches the caller, typed, when its frame comes; no file is left."""

    def broken(self, index):
        raise AssetError(f"slide {index}: its picture went missing", "slides")

    monkeypatch.setattr(SlidesAhead, "_make", broken)
    with pytest.raises(AssetError, match="went missing"):
        render(_deck(), tmp_path / "out.mp4", platform=PLATFORM, compositor="cpu")
    assert list(tmp_path.iterdir()) == []


def test_what_a_slide_made_ahead_could_not_do_is_in_the_report(tmp_path, monkeypatch):
    made: list[int] = []
    real_make = SlidesAhead._make

    def spying(self, index):
        made.append(index)
        return real_make(self, index)

    monkeypatch.setattr(SlidesAhead, "_make", spying)
    deck = _deck()
    deck["slides"][3]["title"] = "Done " + "ünd " * 400  # far too long: cut to fit, with a warning
    report = render(deck, tmp_path / "out.mp4", platform=PLATFORM, compositor="cpu")
    assert 3 in made
    assert any(warning.startswith("slides[3]") for warning in report.warnings), report.warnings


def test_the_two_rasterizers_share_their_backgrounds(monkeypatch):
    """The worker's rasterizer draws a background the render thread's then finds (and the
    other way round): one drawing for a deck of one background."""
    import engine.raster.rasterizer as rasterizer_module

    drawn = []
    real = rasterizer_module.render_background

    def counting(*args, **kwargs):
        drawn.append(args[1:3])
        return real(*args, **kwargs)

    monkeypatch.setattr(rasterizer_module, "render_background", counting)
    deck, output = load_deck(_deck()), resolve_output(PLATFORM)
    timeline = deck_timeline(deck, output)
    compositor = CPUCompositor(WIDTH, HEIGHT)
    slides = SlideSource(deck, output, timeline, compositor, ahead=True)
    try:
        buffer = np.empty(nv12_size(WIDTH, HEIGHT), np.uint8)
        for index, segment in enumerate(timeline.segments):
            for coming in timeline.segments[index + 1 : index + 3]:
                slides.expect(coming)
            for frame in [segment.start] if isinstance(segment, Hold) else range(segment.start, segment.end):
                slides.draw(segment, frame, buffer)
            if not isinstance(segment, Hold):
                slides.backdrops.release()
    finally:
        slides.close()
    assert drawn == [(WIDTH, HEIGHT)]


def test_closing_drops_the_slides_still_queued():
    deck, output = load_deck(_deck()), resolve_output(PLATFORM)
    rasterizer = SlideRasterizer(deck, output)
    started, release = threading.Event(), threading.Event()
    ahead = SlidesAhead(rasterizer)
    real = ahead._make

    def slow(index):
        started.set()
        release.wait(timeout=30)
        return real(index)

    ahead._make = slow  # type: ignore[method-assign]
    for index in range(4):
        ahead.request(f"slide-{index}", index)
    jobs = dict(ahead._jobs)
    assert started.wait(timeout=30)
    release.set()
    ahead.close()
    assert jobs["slide-0"].done() and not jobs["slide-0"].cancelled()
    assert all(jobs[f"slide-{index}"].cancelled() for index in (1, 2, 3))
    assert ahead.take("slide-0") is None  # (dropped with the rest)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["still", "build", "chart"])
def test_a_prepared_slide_draws_as_the_uploaded_one(index):
    """`prepare` on another thread, then `upload_prepared`, holds what `upload` or
    `upload_layers` hold: every state of the slide draws the same bytes."""
    deck, output = load_deck(_deck()), resolve_output(PLATFORM)
    rasterizer = SlideRasterizer(deck, output)
    compositor = CPUCompositor(WIDTH, HEIGHT)
    motion = deck.motion(index)
    picture = rasterizer.raster(index)[1] if motion is None else rasterizer.layers(index)
    if motion is None:
        uploaded = compositor.upload("uploaded", picture)
    else:
        uploaded = compositor.upload_layers("uploaded", picture)
    ahead = SlidesAhead(rasterizer, compositor.prepare)
    try:
        ahead.request("prepared", index)
        made = ahead.take("prepared")
    finally:
        ahead.close()
    assert isinstance(made, Made) and made.prepared
    prepared = compositor.upload_prepared("prepared", made.slide)

    def drawn(handle, t) -> np.ndarray:
        state = None if motion is None else motion.state(t, picture.count, WIDTH, HEIGHT)
        compositor.render(FrameSpec(handle, source_state=state))
        out = np.empty(nv12_size(WIDTH, HEIGHT), np.uint8)
        compositor.read_nv12(out)
        return out

    for t in (0.0, 0.25, 0.5, 1.0):
        assert np.array_equal(drawn(prepared, t), drawn(uploaded, t)), t


def test_prepared_planes_of_another_size_are_refused():
    deck = load_deck(_deck())
    small = SlideRasterizer(deck, resolve_output(PLATFORM)).layers(1)
    planes = CPUCompositor(WIDTH, HEIGHT).prepare(small)
    with pytest.raises(ValueError, match="renders 640×360"):
        CPUCompositor(640, 360).upload_prepared("slide", planes)


def test_the_preview_makes_its_slides_where_it_draws():
    """A frame source (preview, stills) draws one frame at a time: no thread of its own."""
    from engine.frames import FrameSource

    source = FrameSource(load_deck(_deck()), resolve_output(PLATFORM), compositor="cpu")
    try:
        assert source._slides.ahead is None
        assert source.frame(20).shape == (nv12_size(WIDTH, HEIGHT),)
    finally:
        source.close()
