"""Headless Chromium for the page tests: find it, take a screenshot, dump the DOM, read the PNG.

Chromium comes from Debian (`apt-get install chromium`; bin/test installs it when missing). Pillow is
not a dependency, so the screenshot's PNG is decoded here with zlib and numpy (8-bit RGB/RGBA,
not interlaced: what Chromium writes).

Pages are opened offline: every host name resolves to nothing and every proxied request goes to a
closed port, so a page that needs a CDN shows what it shows without network.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9")
SCRIPT_TIME_MS = 5000  # virtual time the page's scripts get before the screenshot or DOM dump
TIMEOUT_S = 120


def chromium_path() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    browser = chromium_path()
    if browser is None:
        raise RuntimeError("chromium is not installed")
    command = [browser, *BASE_FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def screenshot(page: Path, png: Path, profile: Path, size: tuple[int, int] = (1400, 2000)) -> None:
    """A PNG of the top ``size`` of ``page`` after its scripts ran, or AssertionError with Chromium's output."""
    result = _run(
        [
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            f"--virtual-time-budget={SCRIPT_TIME_MS}",
            page.resolve().as_uri(),
        ],
        profile,
    )
    if not png.exists():
        raise AssertionError(f"chromium wrote no screenshot (exit {result.returncode}):\n{result.stderr[-3000:]}")


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM as HTML after its scripts ran (what a reader's browser shows, as markup)."""
    result = _run(["--dump-dom", f"--virtual-time-budget={SCRIPT_TIME_MS}", page.resolve().as_uri()], profile)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError(f"chromium --dump-dom failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def read_png(path: Path) -> np.ndarray:
    """The image as a (height, width, channels) uint8 array: 8-bit RGB or RGBA, not interlaced."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise ValueError(f"{path} has no IHDR chunk")
    width, height, depth, color, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are read here (got {header})")
    return _unfilter(zlib.decompress(b"".join(idat)), width, height, channels)


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> np.ndarray:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    stride = width * bpp
    rows = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1)
        if kind == 0:
            current = line.copy()
        elif kind == 1:
            current = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:
            current = line + previous
        else:
            current = np.frombuffer(_sequential_row(kind, line.tobytes(), previous.tobytes(), bpp), dtype=np.uint8)
        rows[y] = current
        previous = current
    return rows.reshape(height, width, bpp)


def _sequential_row(kind: int, line: bytes, above: bytes, bpp: int) -> bytearray:
    """Average (3) and Paeth (4) depend on the byte just decoded to the left: one byte at a time."""
    out = bytearray(len(line))
    for i, value in enumerate(line):
        left = out[i - bpp] if i >= bpp else 0
        up = above[i]
        if kind == 3:
            out[i] = (value + (left + up) // 2) & 255
            continue
        corner = above[i - bpp] if i >= bpp else 0
        pa, pb, pc = abs(up - corner), abs(left - corner), abs(left + up - 2 * corner)
        predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
        out[i] = (value + predictor) & 255
    return out


@dataclass(frozen=True)
class Ink:
    """How much a region of a screenshot shows: share of pixels that are not (near) the background,
    and how many distinct colours it holds (text, lines, badges)."""

    share: float
    colours: int


def ink(image: np.ndarray, top: int, bottom: int) -> Ink:
    region = image[top:bottom, :, :3].reshape(-1, 3).astype(np.int32)
    background = np.median(region, axis=0)
    differs = np.abs(region - background).max(axis=1) > 24
    distinct = np.unique(region[:, 0] * 65536 + region[:, 1] * 256 + region[:, 2]).size
    return Ink(share=float(differs.mean()), colours=int(distinct))
