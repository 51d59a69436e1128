import engine


def test_exported_names_are_pinned():
    # Changing this list is changing the public API: do it on purpose.
    assert sorted(engine.__all__) == sorted(
        [
            "__version__",
            "load_deck",
            "Deck",
            "deck_json_schema",
            "render",
            "render_many",
            "render_frame",
            "RenderReport",
            "RenderProgress",
            "RenderJob",
            "OutputRequest",
            "run_job",
            "LocalExecutor",
            "Settings",
            "load_settings",
            "resolve_output",
            "Output",
            "PLATFORMS",
            "QUALITIES",
            "EngineError",
            "SpecError",
            "AssetError",
            "BackendUnavailableError",
            "CodecNotSupportedError",
            "InsufficientResourcesError",
            "OutputError",
            "RenderTimeoutError",
            "RenderError",
            "SettingsError",
            "QueueFullError",
            "JobNotFoundError",
            "JobFailedError",
            "ServerError",
            "AuthError",
        ]
    )
    for name in engine.__all__:
        assert hasattr(engine, name), name


def test_importing_engine_loads_no_backend_library():
    import subprocess
    import sys

    code = (
        "import sys, engine; print(sorted(m for m in ('moderngl', 'av', 'PyNvVideoCodec', 'glfw') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_errors_inherit_the_matching_builtins():
    assert issubclass(engine.SpecError, ValueError)
    assert issubclass(engine.AssetError, FileNotFoundError)
    assert all(issubclass(e, engine.EngineError) for e in (engine.SpecError, engine.AssetError, engine.RenderError))
    assert str(engine.SpecError("must be > 0", "slides[3].duration")) == "slides[3].duration: must be > 0"
