# Reel: `make demo` sets everything up and renders the example deck for every
# platform and the narrated launch deck (examples/launch.yaml) for TikTok; `make test`
# sets up, lints, type-checks and runs the test suite (CI runs exactly that).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: setup demo lint test test-fast bench constraints clean

SOUND  := examples/assets/music.m4a examples/assets/voiceover.wav
LAUNCH := examples/assets/logo.png examples/assets/clip.mp4

setup: $(STAMP) $(SOUND) $(LAUNCH)

# constraints.txt pins every dependency to the versions CI tested (the golden images
# depend on Pillow's and FreeType's exact output); pyproject.toml keeps open ranges, so
# `pip install reel-engine` elsewhere is not pinned.
$(STAMP): pyproject.toml constraints.txt scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The example deck's music bed and voiceover, made here (nothing is downloaded).
$(SOUND) &: $(STAMP) examples/make_sound.py
	$(PY) examples/make_sound.py

# The launch deck's logo and video clip, made here too.
$(LAUNCH) &: $(STAMP) examples/make_launch_assets.py
	$(PY) examples/make_launch_assets.py

demo: setup
	$(VENV)/bin/reel doctor
	$(VENV)/bin/reel render examples/meal-plan.json -p all -o $(DEMO_OUT) --report $(DEMO_OUT)/report.json
	$(VENV)/bin/reel render examples/launch.yaml -p tiktok -o $(DEMO_OUT) --report $(DEMO_OUT)/launch-report.json

# ruff (lint and format) over the tree, mypy over engine/ (configured in pyproject.toml).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest

test-fast: lint
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) bench/run.py

# Newest versions pyproject.toml allows, installed into a scratch venv and written to
# constraints.txt. Run `make clean test` after: new Pillow or FreeType may move goldens.
constraints:
	set -e; scratch=$$(mktemp -d); \
	$(PYTHON) -m venv $$scratch; \
	$$scratch/bin/python -m pip install --quiet --upgrade pip; \
	$$scratch/bin/python -m pip install --quiet -e '.[test]'; \
	{ sed -n 1p constraints.txt; $$scratch/bin/python -m pip freeze --exclude-editable; } > constraints.new; \
	rm -rf $$scratch
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .mypy_cache .ruff_cache
