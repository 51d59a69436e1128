"""Settings from the environment and reel.toml: values, precedence, sources and errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.errors import SettingsError
from engine.platforms import QUALITIES
from engine.settings import Settings, default_home, load_settings

# One valid, non-default value per field: (variable, text as set in the environment, parsed value).
ENV_VALUES = [
    ("max_concurrent_videos", "MAX_CONCURRENT_VIDEOS", "8", 8),
    ("cache_size_gb", "CACHE_SIZE_GB", "0", 0.0),
    ("quality_preset", "QUALITY_PRESET", "high", "high"),
    ("home", "REEL_HOME", "/srv/reel", Path("/srv/reel")),
    ("queue_max", "REEL_QUEUE_MAX", "7", 7),
    ("job_timeout_s", "REEL_JOB_TIMEOUT", "90.5", 90.5),
    ("render_timeout_s", "REEL_RENDER_TIMEOUT", "30", 30.0),
    ("max_attempts", "REEL_MAX_ATTEMPTS", "20", 20),
    ("retry_backoff_s", "REEL_RETRY_BACKOFF", "0", 0.0),
    ("worker_max_jobs", "REEL_WORKER_MAX_JOBS", "1", 1),
    ("worker_memory_limit_mb", "REEL_WORKER_MEMORY_LIMIT_MB", "64", 64),
    ("max_deck_bytes", "REEL_MAX_DECK_BYTES", "1000", 1000),
    ("max_deck_values", "REEL_MAX_DECK_VALUES", "500", 500),
    ("max_string_chars", "REEL_MAX_STRING_CHARS", "80", 80),
    ("max_slide_chars", "REEL_MAX_SLIDE_CHARS", "400", 400),
    ("max_slides", "REEL_MAX_SLIDES", "3", 3),
    ("max_image_pixels", "REEL_MAX_IMAGE_PIXELS", "89478485", 89_478_485),
    ("max_image_bytes", "REEL_MAX_IMAGE_BYTES", "1", 1),
    ("max_audio_seconds", "REEL_MAX_AUDIO_SECONDS", "1.5", 1.5),
    ("max_shader_bytes", "REEL_MAX_SHADER_BYTES", "4096", 4096),
    ("api_tokens", "REEL_API_TOKENS", "sha256:" + "0" * 64, "sha256:" + "0" * 64),
    ("max_request_mb", "REEL_MAX_REQUEST_MB", "2.5", 2.5),
    ("max_upload_mb", "REEL_MAX_UPLOAD_MB", "1", 1.0),
    ("max_assets", "REEL_MAX_ASSETS", "0", 0),
    ("max_video_gigapixels", "REEL_MAX_VIDEO_GIGAPIXELS", "0.5", 0.5),
    ("frame_timeout_s", "REEL_FRAME_TIMEOUT", "5", 5.0),
    ("rate_limit", "REEL_RATE_LIMIT", "10", 10),
    ("allow_user_shaders", "REEL_ALLOW_USER_SHADERS", "true", True),
    ("alert_render_seconds", "REEL_ALERT_RENDER_SECONDS", "30", 30.0),
    ("alert_worker_rss_mb", "REEL_ALERT_WORKER_RSS_MB", "512.5", 512.5),
    ("alert_error_rate", "REEL_ALERT_ERROR_RATE", "1", 1.0),
    ("alert_queue_depth", "REEL_ALERT_QUEUE_DEPTH", "3", 3),
    ("metrics_host", "REEL_METRICS_HOST", "0.0.0.0", "0.0.0.0"),
    ("executor", "REEL_EXECUTOR", "ray", "ray"),
    ("ray_address", "REEL_RAY_ADDRESS", "10.0.0.1:6379", "10.0.0.1:6379"),
    ("shared_dir", "REEL_SHARED_DIR", "/mnt/reel", Path("/mnt/reel")),
]


@pytest.fixture(autouse=True)
def _no_local_reel_toml(tmp_path, monkeypatch):
    """Run each test in an empty folder, so a reel.toml in the checkout is never picked up."""
    monkeypatch.chdir(tmp_path)


def write_toml(folder: Path, text: str, name: str = "reel.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(environ: dict[str, str] | None = None, **kwargs) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings({} if environ is None else environ, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_empty_environ_gives_the_defaults_all_from_default():
    settings = load_settings({"XDG_DATA_HOME": "/data"})
    assert settings.max_concurrent_videos == 4
    assert settings.cache_size_gb == 10.0
    assert settings.quality_preset == "standard"
    assert settings.home == Path("/data/reel")
    assert (settings.queue_max, settings.job_timeout_s, settings.max_attempts) == (50, 3600.0, 3)
    assert (settings.retry_backoff_s, settings.worker_max_jobs, settings.worker_memory_limit_mb) == (2.0, 25, 4096)
    assert (settings.alert_render_seconds, settings.alert_worker_rss_mb) == (120.0, 2048.0)
    assert (settings.alert_error_rate, settings.alert_queue_depth) == (0.05, 50)
    assert settings.metrics_host == "127.0.0.1"
    assert set(settings.sources.values()) == {"default"}


def test_settings_built_directly_ignore_the_process_environment(monkeypatch):
    monkeypatch.setenv("MAX_CONCURRENT_VIDEOS", "9")
    assert Settings().max_concurrent_videos == 4
    assert Settings().sources["max_concurrent_videos"] == "default"


@pytest.mark.parametrize(("field", "variable", "text", "expected"), ENV_VALUES, ids=[v[1] for v in ENV_VALUES])
def test_each_environment_variable_is_read(field, variable, text, expected):
    settings = load_settings({variable: text})
    assert getattr(settings, field) == expected
    assert settings.sources[field] == f"env {variable}"


def test_env_value_list_covers_every_field_in_order():
    assert [v[0] for v in ENV_VALUES] == list(Settings.model_fields)
    assert [v[1] for v in ENV_VALUES] == [info.alias for info in Settings.model_fields.values()]


def test_environment_beats_toml_beats_default_and_sources_say_so(tmp_path):
    path = write_toml(tmp_path, "max_concurrent_videos = 6\nqueue_max = 9\n")
    settings = load_settings({"MAX_CONCURRENT_VIDEOS": "12"})  # ./reel.toml found in the current folder
    assert settings.max_concurrent_videos == 12
    assert settings.queue_max == 9
    assert settings.cache_size_gb == 10.0
    assert settings.sources["max_concurrent_videos"] == "env MAX_CONCURRENT_VIDEOS"
    assert settings.sources["queue_max"] == f"reel.toml ({path})"
    assert settings.sources["cache_size_gb"] == "default"


def test_toml_accepts_field_names_and_variable_names(tmp_path):
    path = write_toml(tmp_path, 'MAX_CONCURRENT_VIDEOS = 6\nquality_preset = "draft"\nREEL_HOME = "/srv/x"\n')
    settings = load_settings({}, config_file=path)
    assert (settings.max_concurrent_videos, settings.quality_preset, settings.home) == (6, "draft", Path("/srv/x"))
    assert settings.sources["home"] == f"reel.toml ({path})"


def test_reel_config_variable_names_the_toml_file(tmp_path):
    path = write_toml(tmp_path, "queue_max = 3\n", name="prod.toml")
    settings = load_settings({"REEL_CONFIG": str(path)})
    assert settings.queue_max == 3
    assert settings.sources["queue_max"] == f"reel.toml ({path})"


def test_config_file_argument_beats_reel_config_and_local_file(tmp_path):
    write_toml(tmp_path, "queue_max = 1\n")
    other = write_toml(tmp_path, "queue_max = 2\n", name="other.toml")
    assert load_settings({"REEL_CONFIG": "/nowhere.toml"}, config_file=other).queue_max == 2


def test_unknown_toml_key_names_key_file_and_suggestion(tmp_path):
    path = write_toml(tmp_path, "max_concurent_videos = 6\n")
    message = error_for(config_file=path)
    assert "max_concurent_videos" in message
    assert str(path) in message
    assert "did you mean 'max_concurrent_videos'?" in message


def test_unknown_toml_variable_name_is_suggested_in_the_same_spelling(tmp_path):
    write_toml(tmp_path, "REEL_QUEUE_MAXIMUM = 6\n")
    assert "did you mean 'REEL_QUEUE_MAX'?" in error_for()


def test_same_setting_twice_in_toml_is_an_error(tmp_path):
    write_toml(tmp_path, "queue_max = 6\nREEL_QUEUE_MAX = 7\n")
    message = error_for()
    assert "REEL_QUEUE_MAX" in message and "queue_max" in message


def test_invalid_toml_names_the_file_and_the_parser_message(tmp_path):
    path = write_toml(tmp_path, "queue_max = = 6\n")
    message = error_for()
    assert str(path) in message
    assert "invalid TOML" in message and "line 1" in message


def test_missing_explicit_config_file_is_an_error(tmp_path):
    missing = tmp_path / "missing.toml"
    assert str(missing) in error_for(config_file=missing)
    message = error_for({"REEL_CONFIG": str(missing)})
    assert message.startswith("REEL_CONFIG:") and str(missing) in message


def test_without_tomllib_only_an_actual_toml_file_is_an_error(tmp_path, monkeypatch):
    """Python 3.10 has no tomllib: settings still load from the environment alone."""
    import engine.settings

    monkeypatch.setattr(engine.settings, "_load_toml", None)
    assert load_settings({"REEL_QUEUE_MAX": "5"}).queue_max == 5
    path = write_toml(tmp_path, "queue_max = 6\n")
    message = error_for()
    assert str(path) in message and "Python 3.11" in message


def test_no_local_reel_toml_is_fine():
    assert load_settings({}).sources["queue_max"] == "default"


@pytest.mark.parametrize(
    ("variable", "bad", "allowed"),
    [
        ("MAX_CONCURRENT_VIDEOS", "abc", "an integer from 1 to 64"),
        ("MAX_CONCURRENT_VIDEOS", "65", "an integer from 1 to 64"),
        ("MAX_CONCURRENT_VIDEOS", "", "an integer from 1 to 64"),
        ("CACHE_SIZE_GB", "-1", "a number of at least 0"),
        ("CACHE_SIZE_GB", "", "a number of at least 0"),
        ("REEL_JOB_TIMEOUT", "0", "a number greater than 0"),
        ("REEL_JOB_TIMEOUT", "inf", "a number greater than 0"),
        ("REEL_MAX_ATTEMPTS", "21", "an integer from 1 to 20"),
        ("REEL_QUEUE_MAX", "2.5", "an integer of at least 1"),
        ("REEL_WORKER_MEMORY_LIMIT_MB", "63", "an integer of at least 64"),
        ("REEL_ALERT_ERROR_RATE", "1.5", "a number from 0 to 1"),
        ("REEL_ALERT_RENDER_SECONDS", "nan", "a number greater than 0"),
        ("REEL_HOME", "", "a folder path"),
        ("REEL_METRICS_HOST", " ", "a host name or IP address"),
    ],
)
def test_bad_environment_value_names_variable_value_and_what_is_allowed(variable, bad, allowed):
    message = error_for({variable: bad})
    assert message == f"{variable}: must be {allowed}, got {bad!r}"


def test_bad_toml_value_names_the_key_and_file(tmp_path):
    path = write_toml(tmp_path, "REEL_MAX_ATTEMPTS = 0\n")
    assert error_for() == f"reel.toml key REEL_MAX_ATTEMPTS ({path}): must be an integer from 1 to 20, got 0"


def test_several_bad_values_are_reported_on_one_line():
    message = error_for({"REEL_QUEUE_MAX": "0", "REEL_ALERT_QUEUE_DEPTH": "x"})
    assert "REEL_QUEUE_MAX" in message and "REEL_ALERT_QUEUE_DEPTH" in message


def test_settings_error_is_a_value_error():
    with pytest.raises(ValueError):
        load_settings({"QUALITY_PRESET": "ultra"})


def test_quality_preset_is_checked_against_qualities_and_the_error_lists_them():
    for name in QUALITIES:
        assert load_settings({"QUALITY_PRESET": name}).quality_preset == name
    message = error_for({"QUALITY_PRESET": "ultra"})
    assert message.startswith("QUALITY_PRESET:") and "'ultra'" in message
    assert all(name in message for name in QUALITIES)


def test_default_home_honours_xdg_data_home():
    assert default_home({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/reel")
    assert default_home({"XDG_DATA_HOME": "/xdg"}, platform="darwin") == Path("/xdg/reel")


def test_default_home_per_platform_without_xdg():
    assert default_home({}, platform="linux") == Path.home() / ".local" / "share" / "reel"
    assert default_home({}, platform="darwin") == Path.home() / "Library" / "Application Support" / "reel"
    assert default_home({"LOCALAPPDATA": "/appdata"}, platform="win32") == Path("/appdata/reel")


def test_load_settings_takes_home_default_from_the_given_environ_only(monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", "/from/os/environ")
    assert load_settings({"XDG_DATA_HOME": "/given"}).home == Path("/given/reel")


def test_home_expands_the_user_folder():
    assert load_settings({"REEL_HOME": "~/reel-data"}).home == Path.home() / "reel-data"


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(ValidationError, match="frozen"):
        settings.queue_max = 3


def test_pickle_round_trip_keeps_values_and_sources():
    settings = load_settings({"MAX_CONCURRENT_VIDEOS": "8"}).with_overrides(queue_max=5)
    copy = pickle.loads(pickle.dumps(settings))
    assert copy == settings
    assert dict(copy.sources) == dict(settings.sources)
    assert copy.sources["max_concurrent_videos"] == "env MAX_CONCURRENT_VIDEOS"


def test_with_overrides_validates_and_marks_overridden_fields():
    settings = load_settings({"REEL_QUEUE_MAX": "9"})
    copy = settings.with_overrides(max_concurrent_videos=2)
    assert (copy.max_concurrent_videos, copy.queue_max) == (2, 9)
    assert copy.sources["max_concurrent_videos"] == "override"
    assert copy.sources["queue_max"] == "env REEL_QUEUE_MAX"
    assert settings.max_concurrent_videos == 4
    with pytest.raises(SettingsError, match=r"^max_concurrent_videos: must be an integer from 1 to 64, got 0$"):
        settings.with_overrides(max_concurrent_videos=0)
    with pytest.raises(SettingsError, match="did you mean 'max_concurrent_videos'"):
        settings.with_overrides(max_concurent_videos=2)


def test_settings_built_directly_raise_settings_error_not_pydantic():
    with pytest.raises(SettingsError, match=r"^queue_max: must be an integer of at least 1, got 0$"):
        Settings(queue_max=0)


def test_cache_bytes():
    assert load_settings({"CACHE_SIZE_GB": "1.5"}).cache_bytes == 1_500_000_000
    assert load_settings({"CACHE_SIZE_GB": "0"}).cache_bytes == 0


def test_describe_rows_follow_declaration_order_with_sources(tmp_path):
    path = write_toml(tmp_path, "queue_max = 9\n")
    rows = load_settings({"MAX_CONCURRENT_VIDEOS": "8", "XDG_DATA_HOME": "/d"}).describe()
    assert [row[0] for row in rows] == [v[1] for v in ENV_VALUES]
    by_variable = {row[0]: row for row in rows}
    assert by_variable["MAX_CONCURRENT_VIDEOS"] == ("MAX_CONCURRENT_VIDEOS", "8", "env MAX_CONCURRENT_VIDEOS")
    assert by_variable["REEL_QUEUE_MAX"] == ("REEL_QUEUE_MAX", "9", f"reel.toml ({path})")
    assert by_variable["REEL_HOME"] == ("REEL_HOME", str(Path("/d/reel")), "default")


def test_every_field_has_a_description():
    assert all(info.description for info in Settings.model_fields.values())
