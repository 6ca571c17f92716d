"""GX Data Docs that render with no network.

GX 1.24's Data Docs pages load jQuery, Bootstrap, bootstrap-table, popper.js, vega, Font Awesome
and more from CDNs, and their tables are filled by those scripts: offline a page shows two "Clear
Filters" buttons and nothing else. Set-up (``python -m expectations.offline_docs``, run by
bin/setup) fetches the exact files from npm with ``npm pack``, checks each tarball against the
sha512 recorded in ``data_docs_assets.json`` and keeps the files in a cache beside the venv
(``<venv>/share/data_docs_assets``). After every Data Docs build, :func:`make_offline` copies them
into the docs folder (``static/vendor/``) and points every page at its local copy. GX's logo, which
the navbar loads from S3 with the data context id in the query string, points at the copy GX
already writes into ``static/images``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from warehouse_core.cli import user_errors

log = logging.getLogger(__name__)

MANIFEST_FILE = Path(__file__).with_name("data_docs_assets.json")
VENDOR_DIR = Path("static") / "vendor"
IMAGES_DIR = Path("static") / "images"
VERIFIED_MARK = ".verified-integrity"  # written last into a cached package folder: its content passed the check
SRI_ATTRIBUTES = re.compile(r'\s+(?:integrity="sha\d+-[^"]*"|crossorigin="anonymous")')
NPM_TIMEOUT_S = 300


class Asset(BaseModel):
    url: str  # exactly as GX's pages write it
    path: str  # inside the npm package
    sri: str | None = None  # the integrity attribute GX's page carries for this url, if any


class NpmPackage(BaseModel):
    name: str
    version: str
    license: str
    integrity: str  # `npm view <name>@<version> dist.integrity`
    assets: list[Asset]
    folders: list[str] = []  # copied whole (files the assets load by relative path)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        return self.spec.replace("/", "+")


class GxImages(BaseModel):
    prefix: str
    local: dict[str, str]  # remote file name -> file in the docs' static/images


class Manifest(BaseModel):
    packages: list[NpmPackage]
    gx_images: GxImages


def load_manifest() -> Manifest:
    return Manifest.model_validate_json(MANIFEST_FILE.read_text())


def default_cache_dir() -> Path:
    """Beside the venv's other downloaded files: it goes away with the venv."""
    return Path(sys.prefix) / "share" / "data_docs_assets"


def sri_digest(data: bytes, algorithm: str) -> str:
    """``<algorithm>-<base64 digest>``, the form of npm's dist.integrity and HTML integrity attributes."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def is_cached(package: NpmPackage, cache_dir: Path) -> bool:
    mark = cache_dir / package.folder / VERIFIED_MARK
    return mark.exists() and mark.read_text().strip() == package.integrity


def unpack_verified(package: NpmPackage, tarball: Path, cache_dir: Path) -> None:
    """Check ``tarball`` against the pinned sha512 (and each asset against its page's sha384), then
    keep the assets and folders under ``cache_dir/<name>@<version>``. Raises ValueError on a mismatch,
    leaving the cache as it was."""
    found = sri_digest(tarball.read_bytes(), "sha512")
    if found != package.integrity:
        raise ValueError(
            f"{package.spec}: tarball sha512 {found[:24]}... is not the pinned {package.integrity[:24]}..."
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache_dir))
    try:
        with tarfile.open(tarball) as archive:
            _extract(package, archive, staging)
        (staging / VERIFIED_MARK).write_text(package.integrity + "\n")
        target = cache_dir / package.folder
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(package: NpmPackage, archive: tarfile.TarFile, staging: Path) -> None:
    members = {m.name: m for m in archive.getmembers() if m.isfile()}
    wanted = [a.path for a in package.assets] + [
        name.removeprefix("package/")
        for name in members
        if any(name.startswith(f"package/{folder}/") for folder in package.folders)
    ]
    for relative in wanted:
        member = members.get(f"package/{relative}")
        if member is None or ".." in PurePosixPath(relative).parts:
            raise ValueError(f"{package.spec}: the tarball has no file {relative}")
        data = archive.extractfile(member).read()
        asset = next((a for a in package.assets if a.path == relative and a.sri), None)
        if asset and sri_digest(data, asset.sri.split("-")[0]) != asset.sri:
            raise ValueError(f"{package.spec}: {relative} does not match the integrity attribute of {asset.url}")
        out = staging / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)


def fetch_assets(cache_dir: Path | None = None, npm: str | None = None) -> list[str]:
    """Fetch every package not cached yet with ``npm pack``; returns one line per problem (empty: all cached)."""
    cache_dir = cache_dir or default_cache_dir()
    missing = [p for p in load_manifest().packages if not is_cached(p, cache_dir)]
    npm = npm or shutil.which("npm")
    if missing and npm is None:
        return [
            "npm not found: GX Data Docs keep their CDN links and render empty offline; "
            "install npm (Debian: apt-get install npm) and run bin/setup again"
        ]
    problems = []
    for package in missing:
        with tempfile.TemporaryDirectory() as download:
            result = subprocess.run(
                [npm, "pack", "--silent", "--pack-destination", download, package.spec],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            tarballs = list(Path(download).glob("*.tgz"))
            if result.returncode != 0 or len(tarballs) != 1:
                detail = (result.stderr.strip().splitlines() or ["no tarball"])[-1]
                problems.append(f"npm pack {package.spec} failed ({detail}): that Data Docs asset stays on its CDN")
                continue
            try:
                unpack_verified(package, tarballs[0], cache_dir)
            except ValueError as error:
                problems.append(f"refused {error}: that Data Docs asset stays on its CDN")
    return problems


def make_offline(docs_dir: Path, cache_dir: Path | None = None) -> bool:
    """Copy the cached assets into ``docs_dir`` and point every page at them. Returns False (after one
    warning line, pages untouched) when the cache is incomplete."""
    cache_dir = cache_dir or default_cache_dir()
    manifest = load_manifest()
    missing = [p.spec for p in manifest.packages if not is_cached(p, cache_dir)]
    if missing:
        log.warning(
            "Data Docs keep their CDN links and render empty offline: %d of %d npm packages (%s ...) not in %s; "
            "run bin/setup (it needs npm)",
            len(missing),
            len(manifest.packages),
            missing[0],
            cache_dir,
        )
        return False
    for package in manifest.packages:
        shutil.copytree(cache_dir / package.folder, docs_dir / VENDOR_DIR / package.folder, dirs_exist_ok=True)
    for page in [*docs_dir.rglob("*.html"), *(docs_dir / "static").rglob("*.css")]:
        text = page.read_text(encoding="utf-8")
        local = rewrite_links(text, page.parent, docs_dir, manifest)
        if local != text:
            page.write_text(local, encoding="utf-8")
    return True


def rewrite_links(text: str, page_dir: Path, docs_dir: Path, manifest: Manifest) -> str:
    """Every CDN url of the manifest, and GX's S3 logo, replaced by a path relative to ``page_dir``."""

    def relative(target: Path) -> str:
        return Path(os.path.relpath(target, page_dir)).as_posix()

    for package in manifest.packages:
        for asset in package.assets:
            text = text.replace(asset.url, relative(docs_dir / VENDOR_DIR / package.folder / asset.path))
    text = SRI_ATTRIBUTES.sub("", text)  # checked at set-up; Chromium refuses integrity-checked file:// scripts
    images = manifest.gx_images
    pattern = re.compile(re.escape(images.prefix) + r"([\w.-]+)(?:\?[^\"')\s]*)?")
    return pattern.sub(
        lambda m: (
            relative(docs_dir / IMAGES_DIR / images.local[m.group(1)]) if m.group(1) in images.local else m.group(0)
        ),
        text,
    )


@user_errors
def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    problems = fetch_assets()
    for problem in problems:
        log.warning("warning: %s", problem)
    if not problems:
        log.info(
            "GX Data Docs assets: %d npm packages verified in %s", len(load_manifest().packages), default_cache_dir()
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
