"""GX Data Docs render with no network: the CDN assets are vendored from npm (checked against pinned
hashes) and every page links its local copy; Chromium, with every host unresolvable, shows the tables."""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from pathlib import Path

import great_expectations
import pytest
from browser_helpers import dump_dom, ink, read_png, screenshot
from prerequisites import missing
from warehouse_helpers import run_cli

from expectations.offline_docs import (
    VENDOR_DIR,
    default_cache_dir,
    is_cached,
    load_manifest,
    rewrite_links,
    sri_digest,
    unpack_verified,
)

GX_VIEW = Path(great_expectations.__file__).parent / "render" / "view"
LOADED_URL = re.compile(r"""(?:<(?:script|img)[^>]*\ssrc|<link[^>]*\shref|url\()\s*=?\s*["']?(https?://[^"')\s]+)""")
TABLE_ROW = re.compile(r'<tr\b[^>]*\bdata-index="\d+"')  # a row bootstrap-table rendered from the page's data


def test_every_url_gx_loads_is_vendored() -> None:
    """A GX upgrade that loads another CDN file fails here, not silently offline."""
    manifest = load_manifest()
    vendored = {a.url for p in manifest.packages for a in p.assets}
    templates = [*GX_VIEW.joinpath("templates").glob("*.j2"), *GX_VIEW.joinpath("static").rglob("*.css")]
    loaded = {url for path in templates for url in LOADED_URL.findall(path.read_text(encoding="utf-8"))}
    assert loaded, "no CDN url found in GX's templates: the pattern is stale"
    images = manifest.gx_images.prefix
    assert {u for u in loaded if not u.startswith(images) and "{{" not in u} <= vendored


def test_pages_point_at_local_copies_relative_to_their_folder(tmp_path: Path) -> None:
    manifest = load_manifest()
    jquery = next(a for p in manifest.packages for a in p.assets if "jquery" in a.url)
    page = (
        f'<script src="{jquery.url}"></script>'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=abc">'
        '<a href="https://greatexpectations.io">GX</a>'
    )
    out = rewrite_links(page, tmp_path / "validations" / "a" / "b", tmp_path, manifest)
    assert '<script src="../../../static/vendor/jquery@3.7.1/dist/jquery.min.js">' in out
    assert '"../../../static/vendor/popper.js@1.12.9/dist/umd/popper.min.js"></script>' in out  # no integrity attribute
    assert '<img src="../../../static/images/logo-long.png">' in out  # no beacon query
    assert '<a href="https://greatexpectations.io">' in out  # a link a reader clicks stays


def _tarball(files: dict[str, bytes], path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    package = next(p for p in load_manifest().packages if p.name == "jquery")
    tarball = _tarball({"dist/jquery.min.js": b"/* not jQuery */"}, tmp_path / "jquery.tgz")
    with pytest.raises(ValueError, match="is not the pinned"):
        unpack_verified(package, tarball, tmp_path / "cache")
    assert not is_cached(package, tmp_path / "cache") and not (tmp_path / "cache").exists()
    # the same file accepted when the pin is its own hash: the check is the hash, nothing else
    unpack_verified(
        package.model_copy(update={"integrity": sri_digest(tarball.read_bytes(), "sha512")}),
        tarball,
        tmp_path / "cache",
    )


def test_an_asset_that_does_not_match_the_page_integrity_is_refused(tmp_path: Path) -> None:
    package = next(p for p in load_manifest().packages if p.name == "popper.js")
    tarball = _tarball({"dist/umd/popper.min.js": b"/* not popper */"}, tmp_path / "popper.tgz")
    pinned = package.model_copy(update={"integrity": sri_digest(tarball.read_bytes(), "sha512")})
    with pytest.raises(ValueError, match="does not match the integrity attribute"):
        unpack_verified(pinned, tarball, tmp_path / "cache")
    assert not is_cached(pinned, tmp_path / "cache")


@pytest.fixture(scope="module")
def offline_docs(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        missing(
            "npm is not installed, so the Data Docs keep their CDN links and offline rendering is not tested (apt-get install npm, then bin/setup)"
        )
    if not all(is_cached(p, default_cache_dir()) for p in load_manifest().packages):
        pytest.fail(f"the Data Docs assets are not in {default_cache_dir()}: run bin/setup (it needs npm)")
    docs = tmp_path_factory.mktemp("offline") / "docs"
    run_cli(["expectations", "--docs-dir", str(docs)], built_warehouse)
    return docs


def _pages(docs: Path) -> list[Path]:
    return [docs / "index.html", next((docs / "validations").rglob("*backtest_summary*.html"))]


@pytest.mark.warehouse
@pytest.mark.model
def test_data_docs_load_nothing_from_the_network(offline_docs: Path) -> None:
    for page in offline_docs.rglob("*.html"):
        assert not LOADED_URL.findall(page.read_text(encoding="utf-8")), page
    for package in load_manifest().packages:
        for asset in package.assets:
            assert (offline_docs / VENDOR_DIR / package.folder / asset.path).is_file()


def assert_renders(page: Path, profile: Path) -> None:
    """Offline in Chromium: bootstrap-table filled the page's tables, and the top is not blank."""
    rows = TABLE_ROW.findall(dump_dom(page, profile))
    assert len(rows) >= 3, f"{page.name}: {len(rows)} table rows rendered"
    png = profile.parent / f"{page.stem}.png"
    screenshot(page, png, profile, size=(1400, 1200))
    top = ink(read_png(png), 0, 1200)
    assert top.share > 0.05 and top.colours > 300, f"{page.name} looks blank: {top}"


@pytest.mark.warehouse
@pytest.mark.model
def test_data_docs_render_offline_in_chromium(chromium: str, offline_docs: Path, tmp_path: Path) -> None:
    for page in _pages(offline_docs):
        assert_renders(page, tmp_path / "profile")


@pytest.mark.warehouse
@pytest.mark.model
def test_the_check_fails_on_docs_without_their_assets(chromium: str, offline_docs: Path, tmp_path: Path) -> None:
    """Docs whose scripts do not load (as GX writes them, offline) show no table rows: the check sees it."""
    broken = tmp_path / "docs"
    shutil.copytree(offline_docs, broken)
    shutil.rmtree(broken / VENDOR_DIR)
    for page in _pages(broken):
        with pytest.raises(AssertionError, match="table rows rendered"):
            assert_renders(page, tmp_path / "profile")
