#!/usr/bin/env bash
# Installs the system libraries Reel's GL compositor needs (Mesa's EGL, which gives a
# software OpenGL 4.5 context on machines with no GPU), where they are missing.
# Without them Reel still works: it falls back to its numpy compositor.
set -euo pipefail

have_mesa_egl() {
    ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1 ' &&
        ldconfig -p 2>/dev/null | grep -q 'libGL.so.1 ' &&
        ls /usr/share/glvnd/egl_vendor.d/*mesa*.json >/dev/null 2>&1
}

if have_mesa_egl; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: Mesa EGL not found and no apt-get here; install libEGL + libGL (Mesa) yourself for the GL compositor" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "install-system-deps: not root and no sudo; skipping Mesa EGL install (the numpy compositor will be used)" >&2
        exit 0
    fi
fi
echo "install-system-deps: installing Mesa EGL (libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri >/dev/null
