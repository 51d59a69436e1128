# Reel: `make demo` sets everything up and renders the example deck for every
# platform; `make test` sets up and runs the test suite (CI runs exactly that).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: setup demo test test-fast bench clean

SOUND  := examples/assets/music.m4a examples/assets/voiceover.wav

setup: $(STAMP) $(SOUND)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The example deck's music bed and voiceover, made here (nothing is downloaded).
$(SOUND) &: $(STAMP) examples/make_sound.py
	$(PY) examples/make_sound.py

demo: setup
	$(VENV)/bin/reel doctor
	$(VENV)/bin/reel render examples/meal-plan.json -p all -o $(DEMO_OUT) --report $(DEMO_OUT)/report.json

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
