#!/usr/bin/env bash
# Installs the system packages Reel uses, where they are missing:
# - Mesa's EGL, which gives a software OpenGL 4.5 context on machines with no GPU.
#   Without it Reel still works: it falls back to its numpy compositor.
# - Unicode's data files (Debian's unicode-data), for the bidi conformance test
#   (tests/test_bidi.py reads BidiCharacterTest.txt). Without them that test skips.
# - espeak-ng, which speaks the example deck's voiceover (examples/make_sound.py).
#   Without it a chime stands in.
# - Chromium and its WebDriver, which the jobs page's browser test drives
#   (tests/test_server_page.py) and the skip-holds test plays a file in. Without them
#   those tests skip, saying so.
# - FFmpeg's command line and GStreamer with OpenH264's decoder: two more decoders the
#   skip-holds conformance tests read each file with (tests/test_skip_holds.py).
# - Xvfb and xdotool: a virtual X display the preview window opens on, and real key
#   presses sent to it (tests/test_preview.py). Without them that test skips.
set -euo pipefail

have_mesa_egl() {
    ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1 ' &&
        ldconfig -p 2>/dev/null | grep -q 'libGL.so.1 ' &&
        ls /usr/share/glvnd/egl_vendor.d/*mesa*.json >/dev/null 2>&1
}

have_unicode_data() {
    [ -f /usr/share/unicode/BidiCharacterTest.txt ]
}

packages=()
wanted=()
if ! command -v espeak-ng >/dev/null 2>&1; then
    packages+=(espeak-ng)
    wanted+=("espeak-ng (the example deck's voiceover will be a chime without it)")
fi
if ! have_mesa_egl; then
    packages+=(libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri)
    wanted+=("Mesa EGL (the numpy compositor will be used without it)")
fi
if ! have_unicode_data; then
    packages+=(unicode-data)
    wanted+=("unicode-data (the bidi conformance test will skip without it)")
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    packages+=(chromium chromium-driver)
    wanted+=("chromium and chromium-driver (the jobs page's browser test will skip without them)")
fi
if ! command -v ffmpeg >/dev/null 2>&1; then
    packages+=(ffmpeg)
    wanted+=("ffmpeg (the strict-decode conformance test will skip without it)")
fi
if ! command -v gst-inspect-1.0 >/dev/null 2>&1 || ! gst-inspect-1.0 openh264dec >/dev/null 2>&1; then
    packages+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad libopenh264-7)
    wanted+=("GStreamer with openh264dec (the second-decoder conformance test will skip without it)")
fi
if ! command -v Xvfb >/dev/null 2>&1 || ! command -v xdotool >/dev/null 2>&1; then
    packages+=(xvfb xdotool)
    wanted+=("xvfb and xdotool (the preview window's test will skip without them)")
fi
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    printf 'install-system-deps: no apt-get here; install these yourself: %s\n' "${wanted[@]}" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        printf 'install-system-deps: not root and no sudo; skipping %s\n' "${wanted[@]}" >&2
        exit 0
    fi
fi
echo "install-system-deps: installing ${packages[*]}" >&2
if ! $sudo apt-get update -qq ||
    ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
    printf 'install-system-deps: apt-get failed; carrying on without %s\n' "${wanted[@]}" >&2
fi
exit 0
