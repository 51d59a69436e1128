import pytest

from engine.errors import SpecError
from engine.platforms import PLATFORMS, QUALITIES, resolve_output

EXPECTED_SIZES = {
    "youtube": (1920, 1080),
    "youtube_shorts": (1080, 1920),
    "tiktok": (1080, 1920),
    "instagram_reels": (1080, 1920),
    "instagram_stories": (1080, 1920),
    "instagram_feed": (1080, 1080),
    "instagram_portrait": (1080, 1350),
    "facebook": (1920, 1080),
    "linkedin": (1920, 1080),
    "youtube_4k": (3840, 2160),
}


@pytest.mark.parametrize("name,size", EXPECTED_SIZES.items())
def test_presets_have_the_platform_sizes(name, size):
    output = resolve_output(name)
    assert output.size == size
    assert output.fps == 30 and output.gop == 60
    assert output.max_bitrate > 0 and output.buffer_size == 2 * output.max_bitrate


def test_every_safe_area_leaves_most_of_the_frame():
    for platform in PLATFORMS.values():
        left, top, right, bottom = platform.safe_area.box(platform.width, platform.height)
        assert 0 <= left < right <= platform.width and 0 <= top < bottom <= platform.height
        assert (right - left) * (bottom - top) > 0.5 * platform.width * platform.height


def test_vertical_feeds_reserve_more_at_the_bottom_than_the_top():
    for name in ("tiktok", "instagram_reels", "youtube_shorts"):
        safe = PLATFORMS[name].safe_area
        assert safe.bottom > safe.top


def test_draft_is_half_size_at_15_fps_with_even_sizes():
    output = resolve_output("instagram_portrait", "draft")
    assert output.size == (540, 676)  # 1350 / 2 = 675, rounded to even
    assert output.fps == 15 and output.gop == 30
    assert output.max_bitrate < resolve_output("instagram_portrait").max_bitrate


def test_maximum_is_60_fps_with_a_higher_cap():
    output = resolve_output("youtube", "maximum")
    assert output.fps == 60 and output.gop == 120
    assert output.max_bitrate > resolve_output("youtube").max_bitrate
    assert output.crf < resolve_output("youtube").crf


def test_custom_size_and_fps():
    output = resolve_output("1280x720@24")
    assert output.size == (1280, 720) and output.fps == 24 and output.label == "1280x720@24"


@pytest.mark.parametrize(
    "name,message",
    [("1281x720", "must be even"), ("nope", "unknown platform"), ("8x8", "between 16"), ("640x360@0", "fps")],
)
def test_bad_platforms_are_spec_errors(name, message):
    with pytest.raises(SpecError, match=message):
        resolve_output(name)


def test_unknown_quality_is_a_spec_error():
    with pytest.raises(SpecError, match="unknown quality"):
        resolve_output("youtube", "ultra")


def test_labels_name_non_standard_quality():
    assert resolve_output("tiktok").label == "tiktok"
    assert resolve_output("tiktok", "draft").label == "tiktok-draft"
    assert set(QUALITIES) == {"draft", "standard", "high", "maximum"}


def test_a_platform_of_thousands_of_digits_is_a_short_spec_error():
    from engine.errors import SpecError
    from engine.platforms import resolve_platform

    with pytest.raises(SpecError) as caught:
        resolve_platform("9" * 5000 + "x10")
    assert len(str(caught.value)) < 200
    with pytest.raises(SpecError) as caught:
        resolve_platform("bogus" + "9" * 5000)
    assert len(str(caught.value)) < 400
