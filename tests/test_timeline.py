import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.timeline import Hold, SlideTiming, Transition, build_timeline


def deck(durations, fade=1.0, name="fade"):
    return [SlideTiming(durations[0])] + [SlideTiming(d, name, fade) for d in durations[1:]]


def test_total_is_sum_of_durations_minus_transitions():
    timeline = build_timeline(deck([10.2] * 6 + [4.8]), fps=30)
    assert timeline.frame_count == 1800  # (6 × 10.2 + 4.8 − 6 × 1.0) s × 30
    assert timeline.duration == 60.0


def test_segments_are_contiguous_and_alternate_hold_and_transition():
    timeline = build_timeline(deck([5, 5, 5]), fps=30)
    kinds = [type(s) for s in timeline]
    assert kinds == [Hold, Transition, Hold, Transition, Hold]
    assert timeline.segments[0].start == 0
    for a, b in zip(timeline.segments, timeline.segments[1:]):
        assert a.end == b.start


def test_transition_overlaps_end_of_one_slide_and_start_of_next():
    timeline = build_timeline(deck([5, 5]), fps=30)
    hold0, fade, hold1 = timeline.segments
    assert (hold0.start, hold0.end) == (0, 120)  # slide 0 alone for 4 s
    assert (fade.start, fade.end) == (120, 150)  # 1 s shared by both slides
    assert (fade.from_slide, fade.to_slide) == (0, 1)
    assert (hold1.start, hold1.end) == (150, 270)


def test_cumulative_rounding_never_drifts():
    # 100 slides of 1/3 s at 25 fps: per-slide rounding would give 100 × 8 = 800 frames.
    timeline = build_timeline([SlideTiming(1 / 3)] * 100, fps=25)
    assert timeline.frame_count == round(100 / 3 * 25)  # 833


def test_cut_has_no_transition_segment_and_no_overlap():
    timeline = build_timeline(deck([2, 2], fade=0.5, name="cut"), fps=10)
    assert [type(s) for s in timeline] == [Hold, Hold]
    assert timeline.frame_count == 40


def test_first_slide_transition_is_ignored():
    timeline = build_timeline([SlideTiming(2, "fade", 1.0), SlideTiming(2, "fade", 1.0)], fps=10)
    assert timeline.frame_count == 30
    assert isinstance(timeline.segments[0], Hold) and timeline.segments[0].start == 0


def test_progress_is_strictly_between_zero_and_one_and_symmetric():
    fade = build_timeline(deck([5, 5]), fps=30).segments[1]
    values = [fade.progress(f) for f in range(fade.start, fade.end)]
    assert values[0] == pytest.approx(1 / 31) and values[-1] == pytest.approx(30 / 31)
    assert all(0 < v < 1 for v in values)
    assert values == sorted(values)
    with pytest.raises(ValueError):
        fade.progress(fade.end)


def test_segment_at_and_frame_at():
    timeline = build_timeline(deck([5, 5]), fps=30)
    assert isinstance(timeline.segment_at(0), Hold)
    assert isinstance(timeline.segment_at(135), Transition)
    assert timeline.segment_at(269).slide == 1
    assert timeline.frame_at(4.5) == 135
    assert timeline.frame_at(1e9) == 269
    with pytest.raises(ValueError):
        timeline.segment_at(270)


def test_slide_shorter_than_its_transitions_is_refused():
    with pytest.raises(ValueError, match="slide 1"):
        build_timeline(deck([5, 1.5, 5]), fps=30)  # 1 s in + 1 s out > 1.5 s


def test_empty_deck_has_no_frames():
    assert build_timeline([], fps=30).frame_count == 0


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(st.floats(1.0, 20, allow_nan=False), min_size=1, max_size=30),
    fade=st.floats(0, 0.5),
    fps=st.sampled_from([15, 24, 25, 30, 60]),
)
def test_frame_count_matches_rounded_total_for_any_deck(durations, fade, fps):
    timeline = build_timeline(deck(durations, fade), fps=fps)
    total = sum(durations) - fade * (len(durations) - 1)
    assert abs(timeline.frame_count - total * fps) <= 0.5 + 1e-6
    # Contiguous cover of [0, frame_count) with no empty segment.
    position = 0
    for segment in timeline:
        assert segment.start == position and segment.end > segment.start
        position = segment.end
    assert position == timeline.frame_count
