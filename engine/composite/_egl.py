"""Which EGL device the GL compositor should render on.

glcontext's EGL backend takes ``devices[device_index]`` from ``eglQueryDevicesEXT``, and
GLVND lists every vendor's devices together (NVIDIA before Mesa, but a machine may
also expose a Mesa software device or several GPUs). We enumerate the same list
through ctypes and prefer a device carrying ``EGL_NV_device_cuda``, the one NVENC and
CUDA interop can share. Anything unexpected (no libEGL, no device enumeration, an odd
driver) means "let glcontext pick its default": probing must never be the reason the
compositor fails to start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["EGLDevice", "list_devices", "preferred_device_index"]

log = logging.getLogger(__name__)

_EGL_EXTENSIONS = 0x3055
_EGL_CUDA_DEVICE_NV = 0x323A
_MAX_DEVICES = 32

_EGLint = ctypes.c_int32
_EGLBoolean = ctypes.c_uint32
_EGLDeviceEXT = ctypes.c_void_p


@dataclass(frozen=True)
class EGLDevice:
    index: int
    extensions: frozenset[str]
    # The CUDA ordinal of an NVIDIA device (EGL_CUDA_DEVICE_NV), where the driver says.
    cuda_ordinal: int | None = None

    @property
    def is_nvidia(self) -> bool:
        return "EGL_NV_device_cuda" in self.extensions

    @property
    def is_software(self) -> bool:
        return "EGL_MESA_device_software" in self.extensions


def _load_libegl() -> ctypes.CDLL:
    # Same library glcontext loads, so device indices mean the same thing to both.
    name = os.environ.get("GLCONTEXT_LINUX_LIBEGL") or ctypes.util.find_library("EGL") or "libEGL.so.1"
    return ctypes.CDLL(name)


def _extension_function(egl: ctypes.CDLL, name: str, restype, *argtypes):
    get_proc = egl.eglGetProcAddress
    get_proc.restype = ctypes.c_void_p
    get_proc.argtypes = [ctypes.c_char_p]
    address = get_proc(name.encode())
    if not address:
        raise OSError(f"{name} is not available")
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def _enumerate(egl: ctypes.CDLL) -> list[EGLDevice]:
    query_devices = _extension_function(
        egl, "eglQueryDevicesEXT", _EGLBoolean, _EGLint, ctypes.POINTER(_EGLDeviceEXT), ctypes.POINTER(_EGLint)
    )
    query_string = _extension_function(egl, "eglQueryDeviceStringEXT", ctypes.c_char_p, _EGLDeviceEXT, _EGLint)
    handles = (_EGLDeviceEXT * _MAX_DEVICES)()
    count = _EGLint(0)
    if not query_devices(_MAX_DEVICES, handles, ctypes.byref(count)):
        raise OSError("eglQueryDevicesEXT failed")
    try:
        query_attrib = _extension_function(
            egl, "eglQueryDeviceAttribEXT", _EGLBoolean, _EGLDeviceEXT, _EGLint, ctypes.POINTER(ctypes.c_ssize_t)
        )
    except OSError:
        query_attrib = None

    devices = []
    for index in range(count.value):
        text = query_string(handles[index], _EGL_EXTENSIONS) or b""
        extensions = frozenset(text.decode("ascii", "replace").split())
        ordinal = None
        if query_attrib is not None and "EGL_NV_device_cuda" in extensions:
            value = ctypes.c_ssize_t(-1)
            if query_attrib(handles[index], _EGL_CUDA_DEVICE_NV, ctypes.byref(value)):
                ordinal = value.value
        devices.append(EGLDevice(index, extensions, ordinal))
    return devices


@lru_cache(maxsize=1)
def list_devices() -> tuple[EGLDevice, ...]:
    """Every EGL device, in glcontext's order; empty when they cannot be listed."""
    try:
        return tuple(_enumerate(_load_libegl()))
    except Exception as exc:  # noqa: BLE001 - a probe: any failure (ctypes, the driver) means "no information"
        log.debug("EGL device enumeration failed: %s", exc)
        return ()


def preferred_device_index() -> int | None:
    """Index of the first NVIDIA device, or None to let glcontext use its default.

    ``GLCONTEXT_DEVICE_INDEX`` in the environment wins anyway (glcontext reads it).
    """
    for device in list_devices():
        if device.is_nvidia:
            return device.index
    return None
