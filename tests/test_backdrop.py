"""Two slides on one background: a push moves their content, a wipe passes through the
bare background, and the background itself never moves (engine.backdrop)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import render_frame
from engine.api import render
from engine.backdrop import combine
from engine.colour import nv12_size, nv12_to_rgb, rgb_to_nv12
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import Transition, build_timeline
from tests.helpers import decode_frames

PLATFORM = "640x360@10"
WIDTH, HEIGHT, FPS = 640, 360, 10
GRADIENT = {"gradient": {"from": "#10243a", "to": "#0f7060", "direction": "diagonal"}}
COMPOSITORS = ["cpu", "gl"]


def _deck(transition: str, second_background=None, second: dict | None = None) -> dict:
    second = second or {"kind": "title", "title": "1,850 kcal"}
    if second_background is not None:
        second = {**second, "background": second_background}
    return {
        "theme": {"background": GRADIENT, "text_color": "#ffffff", "accent": "#ffb547"},
        "slides": [
            {"kind": "title", "title": "1,860 kcal", "duration": 2.0},
            {**second, "duration": 2.0, "transition": {"name": transition, "duration": 1.0, "easing": "linear"}},
        ],
    }


def _transition(deck: dict) -> Transition:
    return next(s for s in build_timeline(load_deck(deck).timings(), FPS) if isinstance(s, Transition))


def _frame(deck: dict, frame: int, compositor: str) -> np.ndarray:
    return render_frame(deck, frame / FPS, platform=PLATFORM, compositor=compositor).astype(np.int16)


def _text(frame: np.ndarray) -> np.ndarray:
    """Where the white title is (its glyphs' cores)."""
    return frame.min(axis=-1) > 200


def _background(deck: dict) -> np.ndarray:
    """The slides' background as a decoder shows it (through NV12)."""
    rgb = SlideRasterizer(load_deck(deck), resolve_output(PLATFORM)).background(0)
    return nv12_to_rgb(rgb_to_nv12(rgb), WIDTH, HEIGHT).astype(np.int16)


def _bare_rows(background: np.ndarray, *holds: np.ndarray, axis: int = 0, margin: int = 4) -> np.ndarray:
    """Rows (axis 0) or columns (axis 1) where no hold has any content: each is the
    background there, and stays so while content moves along the other axis."""
    other = (1, 0)[axis]
    bare = np.ones(holds[0].shape[axis], bool)
    for hold in holds:
        bare &= np.abs(hold - background).max(axis=(other, 2)) <= 2
    # Keep away from content (antialiased edges reach a little further; a zoom, further).
    return np.convolve(~bare, np.ones(2 * margin + 1), mode="same") == 0


@pytest.mark.parametrize("compositor", COMPOSITORS)
@pytest.mark.parametrize("name", ["slideleft", "slideup", "coverleft", "revealright", "zoomin"])
def test_the_background_stays_while_a_push_moves_the_content(name, compositor):
    deck = _deck(name)
    step = _transition(deck)
    hold_a = _frame(deck, step.start - 1, compositor)
    hold_b = _frame(deck, step.end, compositor)
    # Lines the content never crosses: rows for moves along x, columns for moves along y.
    axis = 1 if name == "slideup" else 0
    lines = _bare_rows(_background(deck), hold_a, hold_b, axis=axis, margin=40 if name == "zoomin" else 4)
    assert lines.sum() > 60
    for frame in range(step.start, step.end):
        shown = _frame(deck, frame, compositor)
        # Whole-frame pushes carried two copies of the gradient: a seam, and the
        # gradient out of place by up to ~60 codes on either side of it.
        error = np.abs(np.compress(lines, shown - hold_a, axis=axis)).max()
        assert error <= 3, f"{name} frame {frame}: the background moved ({error} codes off where no content is)"


@pytest.mark.parametrize("compositor", COMPOSITORS)
def test_a_push_moves_each_title_rigidly_by_its_share_of_the_frame(compositor):
    deck = _deck("slideleft")
    step = _transition(deck)
    hold_a, hold_b = _frame(deck, step.start - 1, compositor), _frame(deck, step.end, compositor)
    text_a, text_b = _text(hold_a), _text(hold_b)
    checked = set()
    for frame in range(step.start, step.end):
        progress = step.progress(frame)
        shown = _text(_frame(deck, frame, compositor))
        # Tolerate the ±1 px of where a texel centre falls.
        near = shown | np.roll(shown, 1, axis=1) | np.roll(shown, -1, axis=1)
        for text, shift in ((text_a, -progress * WIDTH), (text_b, (1 - progress) * WIDTH)):
            ys, xs = np.nonzero(text)
            xs = np.round(xs + shift).astype(int)
            inside = (xs >= 1) & (xs < WIDTH - 1)
            if inside.sum() < 50:
                continue  # this title is (almost) out of the frame
            landed = near[ys[inside], xs[inside]].mean()
            assert landed > 0.97, f"frame {frame}: only {landed:.0%} of a title's pixels are where the push puts them"
            checked.add(shift < 0)
    assert checked == {True, False}  # both titles were seen moving


@pytest.mark.parametrize("compositor", COMPOSITORS)
def test_a_hard_wipe_never_joins_the_two_titles(compositor):
    deck = _deck("wipeleft")
    step = _transition(deck)
    hold_a, hold_b = _frame(deck, step.start - 1, compositor), _frame(deck, step.end, compositor)
    only_a = _text(hold_a) & ~_text(hold_b)
    only_b = _text(hold_b) & ~_text(hold_a)
    assert only_a.sum() > 20 and only_b.sum() > 20
    seen_a = seen_b = 0
    for frame in range(step.start, step.end):
        shown = _text(_frame(deck, frame, compositor))
        a, b = int((shown & only_a).sum()), int((shown & only_b).sum())
        assert not (a and b), f"frame {frame} shows {a} pixels only the old title has beside {b} of the new one"
        seen_a, seen_b = seen_a + a, seen_b + b
    assert seen_a and seen_b  # it is still a wipe: each title shows partly, in turn


def test_the_wipe_is_the_bare_background_halfway():
    deck = _deck("wipeleft")
    step = _transition(deck)
    middle = next(f for f in range(step.start, step.end) if step.progress(f) >= 0.5)
    shown = _frame(deck, middle, "cpu")
    # The left half still had the old title's remains before, the right the new title's;
    # at the middle frame the edge has just crossed: no text anywhere.
    assert _text(shown).sum() < 0.02 * _text(_frame(deck, step.start - 1, "cpu")).sum()


@pytest.mark.parametrize("compositor", COMPOSITORS)
def test_different_backgrounds_keep_the_whole_frame_push(compositor):
    deck = _deck("slideleft", second_background="#5a1e1e")
    step = _transition(deck)
    middle = (step.start + step.end) // 2
    progress = step.progress(middle)
    shown = _frame(deck, middle, compositor)
    edge = round((1 - progress) * WIDTH)
    # Right of the seam is the next slide's own red background, moved in with it.
    corner = shown[-10:, edge + 4 : edge + 40].reshape(-1, 3).mean(axis=0)
    assert np.allclose(corner, (0x5A, 0x1E, 0x1E), atol=4), corner


@pytest.mark.parametrize("compositor", COMPOSITORS)
def test_slides_in_motion_push_over_the_background_too(compositor):
    build = {"style": "rise", "duration": 1.0, "delay": 0.0}
    second = {"kind": "bullets", "title": "Plan", "bullets": ["Oats", "Salad"], "motion": {"build": build}}
    deck = _deck("slideleft", second=second)
    step = _transition(deck)
    hold_a = _frame(deck, step.start - 1, compositor)
    last = _frame(deck, step.end + 9, compositor)  # the build is over
    rows = _bare_rows(_background(deck), hold_a, last)
    assert rows.sum() > 20
    for frame in range(step.start, step.end, 3):
        shown = _frame(deck, frame, compositor)
        assert np.abs(shown[rows] - hold_a[rows]).max() <= 3


def test_the_compositors_agree_on_a_shared_background_push():
    deck = _deck("slideleft")
    step = _transition(deck)
    frame = (step.start + step.end) // 2
    cpu, gl = _frame(deck, frame, "cpu"), _frame(deck, frame, "gl")
    assert np.abs(cpu - gl).max() <= 3


def test_the_decoded_push_keeps_its_background(tmp_path):
    deck = _deck("slideleft")
    step = _transition(deck)
    report = render(deck, tmp_path / "push.mp4", platform=PLATFORM, compositor="cpu")
    frames = decode_frames(report.path, {step.start - 1, *range(step.start, step.end)})
    hold = frames.pop(step.start - 1).astype(np.int16)
    rows = _bare_rows(_background(deck), _frame(deck, step.start - 1, "cpu"))
    assert rows.sum() > 60
    for number, frame in frames.items():
        error = np.abs(frame.astype(np.int16)[rows] - hold[rows]).mean()
        assert error < 1.5, f"decoded frame {number}: the background is {error:.1f} codes off on average"


def test_combine_adds_the_content_over_the_background():
    # One pixel column of content (coverage 0.5, white) pushed over a flat background.
    rng = np.random.default_rng(1)
    width, height = 8, 4
    background = rng.integers(20, 120, (height, width, 3), dtype=np.uint8)
    bg = rgb_to_nv12(background)
    moved_background = rgb_to_nv12(np.roll(background, 3, axis=1))
    # With no content at all, whatever the transition did to the background, the
    # result is the background where it stands.
    white = rgb_to_nv12(np.full((height, width, 3), 255, np.uint8))
    frame = moved_background.copy()
    combine(frame, moved_background, white, bg, width, height)
    assert np.abs(frame.astype(int) - bg.astype(int)).max() <= 1
    assert frame.size == nv12_size(width, height)


@pytest.mark.parametrize("compositor", COMPOSITORS)
def test_a_ken_burns_picture_pushes_in_over_the_background(compositor, tmp_path):
    from PIL import Image

    picture = tmp_path / "plate.png"
    ramp = np.linspace(0, 255, 320, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(ramp, (200, 1))] * 3, axis=-1)).save(picture)
    second = {"kind": "image", "file": str(picture), "fit": "contain", "motion": {"ken_burns": {"zoom": [1.0, 1.2]}}}
    deck = _deck("slideleft", second=second)
    step = _transition(deck)
    hold_a = _frame(deck, step.start - 1, compositor)
    lines = _bare_rows(_background(deck), hold_a, _frame(deck, step.end, compositor))
    assert lines.sum() > 20
    for frame in range(step.start, step.end, 2):
        shown = _frame(deck, frame, compositor)
        assert np.abs(shown[lines] - hold_a[lines]).max() <= 3


def _float_combine(frame, over_bg, over_white, background, width, height):
    """`combine` as first written: the float blend on every pixel (the reference)."""
    from engine.colour import nv12_planes

    (fy, fuv), (ey, euv), (gy, _), (by, buv) = [
        nv12_planes(a, width, height) for a in (frame, over_bg, over_white, background)
    ]

    def add(f, e, b, shown, offset):
        value = f.astype(np.float32) - e + offset + (b.astype(np.float32) - offset) * shown
        f[...] = np.clip(np.rint(value), 0, 255)

    for top in range(0, height, 64):
        rows = slice(top, min(top + 64, height))
        shown = np.clip((gy[rows].astype(np.float32) - 16) / 219, 0, 1)
        add(fy[rows], ey[rows], by[rows], shown, 16)
        halves = (shown[0::2] + shown[1::2]) * np.float32(0.5)
        left = np.concatenate([halves[:, :1], halves[:, 1:-1:2]], axis=1)
        sited = (left + 2 * halves[:, 0::2] + halves[:, 1::2]) * np.float32(0.25)
        add(
            fuv[top // 2 : rows.stop // 2],
            euv[top // 2 : rows.stop // 2],
            buv[top // 2 : rows.stop // 2],
            sited[..., None],
            128,
        )


@pytest.mark.parametrize("seed", range(6))
def test_combine_gives_the_float_blends_bytes_where_content_covers_and_where_not(seed):
    # Content in a few boxes (some at the frame's edges, one a single column at an odd
    # or even x) over a frame otherwise uncovered (235, or brighter): the integer
    # shortcut for the uncovered part must give exactly the float blend's bytes.
    rng = np.random.default_rng(seed)
    width, height = 96, 140
    size = nv12_size(width, height)
    frame, over_bg, background = (rng.integers(0, 256, size, dtype=np.uint8) for _ in range(3))
    over_white = np.full(size, 128, np.uint8)
    luma = over_white[: width * height].reshape(height, width)
    luma[...] = rng.choice([235, 236, 255], (height, width))
    for _ in range(int(rng.integers(0, 4))):
        top, left = int(rng.integers(0, height)), int(rng.integers(0, width))
        bottom, right = top + int(rng.integers(1, 40)), left + int(rng.integers(1, 30))
        luma[top:bottom, left:right] = rng.integers(0, 256, luma[top:bottom, left:right].shape)
    luma[int(rng.integers(0, height)), int(rng.integers(0, width))] = 16
    luma[:, 0 if seed % 2 else width - 1] = rng.integers(16, 235, height)  # an edge column
    expected = frame.copy()
    _float_combine(expected, over_bg, over_white, background, width, height)
    combine(frame, over_bg, over_white, background, width, height)
    assert np.array_equal(frame, expected)


def test_combine_of_a_fully_uncovered_or_fully_covered_frame_matches_the_float_blend():
    rng = np.random.default_rng(9)
    width, height = 64, 130
    size = nv12_size(width, height)
    for shown in (235, 16, 100):
        frame, over_bg, background = (rng.integers(0, 256, size, dtype=np.uint8) for _ in range(3))
        over_white = np.full(size, shown, np.uint8)
        expected = frame.copy()
        _float_combine(expected, over_bg, over_white, background, width, height)
        combine(frame, over_bg, over_white, background, width, height)
        assert np.array_equal(frame, expected), shown


_BUILD = {"style": "rise", "duration": 1.0, "delay": 0.0}


@pytest.mark.parametrize(
    "second",
    [
        {"kind": "bullets", "title": "Plan", "bullets": ["Oats", "Salad"], "motion": {"build": _BUILD}},
        {
            "kind": "chart",
            "title": "Kcal",
            "chart": {"type": "bar", "labels": ["Mon", "Tue", "Wed"], "values": [1850, 1860, 1810], "reveal": 1.0},
            "motion": {"build": _BUILD},
        },
    ],
    ids=["build", "chart"],
)
@pytest.mark.parametrize("logo", [False, True], ids=["", "logo"])
def test_a_silhouette_made_from_the_slides_planes_draws_as_the_painted_one(second, logo, tmp_path):
    """A slide that only builds or reveals: its silhouettes from its own planes in black
    over their painted backs (`upload_silhouette`) draw, in every state, what the
    silhouettes painted in full draw."""
    from engine.colour import nv12_size
    from engine.composite import FrameSpec
    from engine.composite.cpu import CPUCompositor

    spec = _deck("slideleft", second=second)
    if logo:  # (a half-transparent mark: the static layer, black in the silhouettes)
        from PIL import Image

        mark = np.zeros((40, 40, 4), np.uint8)
        mark[5:35, 5:35] = (255, 180, 70, 160)
        Image.fromarray(mark, "RGBA").save(tmp_path / "logo.png")
        spec["theme"]["logo"] = {"file": str(tmp_path / "logo.png"), "size": 0.15}
    deck = load_deck(spec)
    rasterizer = SlideRasterizer(deck, resolve_output(PLATFORM))
    layers = rasterizer.layers(1)
    assert (layers.static is not None) == logo
    compositor = CPUCompositor(WIDTH, HEIGHT)
    slide = compositor.upload_layers("slide", layers)
    plates = (rasterizer.background(1), np.full((HEIGHT, WIDTH, 3), 255, np.uint8))
    backs = rasterizer.silhouette_backs(1, plates)
    assert backs is not None
    derived = [compositor.upload_silhouette(f"derived-{i}", slide, back) for i, back in enumerate(backs)]
    painted = [compositor.upload_layers(f"painted-{i}", one) for i, one in enumerate(rasterizer.silhouettes(1, plates))]

    def drawn(handle, state) -> np.ndarray:
        compositor.render(FrameSpec(handle, source_state=state))
        out = np.empty(nv12_size(WIDTH, HEIGHT), dtype=np.uint8)
        compositor.read_nv12(out)
        return out

    motion = deck.motion(1)
    for t in (0.0, 0.3, 0.6, 1.5):
        state = motion.state(t, layers.count, WIDTH, HEIGHT)
        for one, other in zip(derived, painted, strict=True):
            assert one is not None
            assert np.array_equal(drawn(one, state), drawn(other, state)), t


def test_a_moving_camera_has_no_silhouette_backs_alone(tmp_path):
    picture = tmp_path / "plate.png"
    from PIL import Image

    Image.fromarray(np.full((90, 160, 3), 200, np.uint8)).save(picture)
    second = {"kind": "image", "file": str(picture), "fit": "cover", "motion": {"ken_burns": {"zoom": [1.0, 1.2]}}}
    deck = load_deck(_deck("slideleft", second=second))
    rasterizer = SlideRasterizer(deck, resolve_output(PLATFORM))
    assert rasterizer.silhouette_backs(1, [rasterizer.background(1)]) is None


def test_silhouette_backs_of_a_slide_where_nothing_stays_still_take_no_memory_of_their_own():
    """A chart whose title builds: nothing is painted on its back, so its silhouette's
    back over the background is the slide's own back (the same array), and the one over
    white is one value throughout (a broadcast, no bytes); a bullet slide's title stays
    on its back, painted black into each silhouette's back, whose luma stays its own."""
    from engine.composite.cpu import CPUCompositor

    chart = {
        "kind": "chart",
        "title": "Kcal",
        "chart": {"type": "bar", "labels": ["Mon", "Tue", "Wed"], "values": [1850, 1860, 1810], "reveal": 1.0},
        "motion": {"build": _BUILD},
    }
    bullets = {"kind": "bullets", "title": "Plan", "bullets": ["Oats", "Salad"], "motion": {"build": _BUILD}}
    for second, shared in ((chart, True), (bullets, False)):
        deck = load_deck(_deck("slideleft", second=second))
        rasterizer = SlideRasterizer(deck, resolve_output(PLATFORM))
        compositor = CPUCompositor(WIDTH, HEIGHT)
        slide = compositor.upload_layers("slide", rasterizer.layers(1))
        plates = (rasterizer.background(1), np.full((HEIGHT, WIDTH, 3), 255, np.uint8))
        backs = rasterizer.silhouette_backs(1, plates)
        assert backs is not None
        over_bg, over_white = (
            compositor._slide(compositor.upload_silhouette(f"s{i}", slide, back)) for i, back in enumerate(backs)
        )
        own = compositor._slide(slide)
        assert (over_bg.back_y is own.back_y and over_bg.back_uv is own.back_uv) == shared
        # (Black and white have one CbCr: that plane is one value under the title too.)
        assert (0 in over_white.back_y.strides) == shared
        assert 0 in over_white.back_uv.strides
        assert (over_white.back_uv == 128).all()
