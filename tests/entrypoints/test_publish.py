"""`verify publish DIR`: the static public archive holds no protected byte, every link in
it leads to a file it holds, and each incident's proof checks against its seal."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest
from click.testing import CliRunner, Result

from verify.application.proofs import check_proof
from verify.domain.proofs import PublishedRoot
from verify.entrypoints.cli import cli
from verify.entrypoints.publish.archive import slugs

SECRETS = {
    "source url": "https://example.org/kestrel-informant-7Q",
    "source publisher": "Kestrel Informant Network",
    "victim name": "Zephyrine Quillfeather",
    "victim original": "زفيرين المحمية",
    "note": "note: the driver Orlov saw it",
    "comment": "comment: call Marigold before Friday",
    "file description": "photo held back: Tamsin's courtyard",
    "file origin": "https://example.org/private-drive/aa91",
    "tag": "witness-at-risk-wren",
    "assignee": "quentin-the-analyst",
}
"""Texts only protected parts of the store hold: none may appear in any published byte."""


def run(store: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--store", str(store), "--actor", "maya", *args])
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    run(folder / "demo.sqlite", "demo")
    run(folder / "demo.sqlite", "publish", str(folder / "site"))
    return folder / "site"


@pytest.fixture(scope="module")
def protected_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose every protected kind of thing says one of SECRETS, published."""
    folder = tmp_path_factory.mktemp("protected")
    store = folder / "verify.sqlite"
    run(store, "init")
    run(store, "report", "CS2001", "--date", "2018-05-04", "--location", "Hajin",
        "--country", "Syria", "--belligerent", "US-led Coalition", "--lat", "34.69",
        "--lon", "40.83", "--killed", "3", "--summary", "Strike on a market street.")
    run(store, "source", "add", "CS2001", "--url", "https://example.org/public-report",
        "--publisher", "Public Monitor", "--kind", "ngo")
    run(store, "source", "add", "CS2001", "--url", SECRETS["source url"],
        "--publisher", SECRETS["source publisher"], "--kind", "witness", "--protected")
    run(store, "victim", "add", "CS2001", "--name", SECRETS["victim name"],
        "--name-original", SECRETS["victim original"], "--source", "s2", "--protected")
    run(store, "victim", "add", "CS2001", "--name", "Public Person", "--source", "s1")
    run(store, "note", "CS2001", SECRETS["note"])
    run(store, "comment", "CS2001", SECRETS["comment"])
    run(store, "tag", "CS2001", SECRETS["tag"])
    run(store, "assign", "CS2001", "--to", SECRETS["assignee"])
    photo = folder / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 protected picture")
    run(store, "evidence", "add", "CS2001", str(photo), "--description",
        SECRETS["file description"], "--origin", SECRETS["file origin"], "--protected")
    run(store, "grade", "CS2001")
    run(store, "publish", str(folder / "site"))
    return folder / "site"


def written(site: Path) -> Iterator[Path]:
    return (path for path in sorted(site.rglob("*")) if path.is_file())


def test_the_published_archive_holds_no_protected_byte(protected_site: Path) -> None:
    files = list(written(protected_site))
    assert len(files) > 20
    for path in files:
        content = path.read_bytes()
        for what, text in SECRETS.items():
            for form in {text, text.replace("'", "&#39;"), text.replace("'", "&#x27;")}:
                assert form.encode() not in content, f"{what} in {path.relative_to(protected_site)}"
    page = (protected_site / "incidents/CS2001.html").read_text()
    assert "Public Monitor" in page and "Public Person" in page  # the public parts are there
    assert "Public Person" in (protected_site / "victims.html").read_text()


@pytest.mark.parametrize("site_name", ["demo_site", "protected_site"])
def test_every_link_leads_to_a_file_of_the_archive(site_name: str,
                                                   request: pytest.FixtureRequest) -> None:
    site: Path = request.getfixturevalue(site_name)
    pages = [path for path in written(site) if path.suffix == ".html"]
    checked = 0
    for page in pages:
        for link in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
            if link.startswith(("https://", "http://")):
                continue
            target = (page.parent / unquote(urldefrag(link).url)).resolve()
            assert target.is_file(), f"{page.relative_to(site)} links {link}"
            assert target.is_relative_to(site.resolve()), link
            checked += 1
    assert checked > 100


def test_each_proof_checks_against_the_published_seal(demo_site: Path) -> None:
    seal = json.loads((demo_site / "seal.json").read_text())
    root = PublishedRoot.parse(seal["line"])
    proofs = sorted((demo_site / "incidents").glob("*.proof.json"))
    assert len(proofs) == len(list((demo_site / "incidents").glob("*.html"))) == 10
    for proof in proofs:
        assert check_proof(proof.read_bytes(), root)["holds"], proof.name
    flipped = bytearray(proofs[0].read_bytes())
    where = flipped.index(b'"path":["') + 10
    flipped[where] = ord("0") if flipped[where] != ord("0") else ord("1")
    assert not check_proof(bytes(flipped), root)["holds"]


def test_the_archive_speaks_english_and_arabic(demo_site: Path) -> None:
    english = (demo_site / "incidents/CS1095.html").read_text()
    arabic = (demo_site / "ar/incidents/CS1095.html").read_text()
    assert '<html lang="en" dir="ltr">' in english and 'href="../ar/incidents/CS1095.html"' \
        in english
    assert '<html lang="ar" dir="rtl">' in arabic and 'href="../../incidents/CS1095.html"' \
        in arabic
    assert 'href="../../style.css"' in arabic and "الإحصاءات" in \
        (demo_site / "ar/stats.html").read_text()


def test_the_filters_are_pages_of_their_own(demo_site: Path) -> None:
    index = (demo_site / "index.html").read_text()
    for link in ("lists/grade-confirmed-1.html", "lists/state-graded-1.html",
                 "lists/country-iraq-1.html", "lists/month-2017-03-1.html"):
        assert f'href="{link}"' in index
    iraq = (demo_site / "lists/country-iraq-1.html").read_text()
    assert "CI1050" in iraq and "CS1070" not in iraq
    assert "<svg" in (demo_site / "stats.html").read_text()
    assert "<circle" in (demo_site / "map.html").read_text()
    exported = (demo_site / "exports/incidents.jsonl").read_text().splitlines()
    assert len(exported) == 10
    assert (demo_site / "exports/incidents.csv").read_text().count("\n") == 11
    assert json.loads((demo_site / "exports/incidents.geojson").read_text())["features"]


def test_a_folder_with_files_is_refused_unless_forced(demo_site: Path, tmp_path: Path) -> None:
    store = demo_site.parent / "demo.sqlite"
    runner = CliRunner()
    refused = runner.invoke(cli, ["--store", str(store), "publish", str(demo_site)])
    assert refused.exit_code == 2 and "holds files already" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    afile = tmp_path / "a-file"
    afile.write_text("x")
    assert runner.invoke(cli, ["--store", str(store), "publish", str(afile)]).exit_code == 2
    forced = runner.invoke(cli, ["--store", str(store), "publish", str(demo_site), "--force",
                                 "--no-proofs", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["incidents"] == 10


def test_country_names_make_distinct_file_names() -> None:
    names = slugs(["Syria", "syria", "سوريا", "Côte d'Ivoire", "Iraq"])
    assert names["Iraq"] == "iraq" and names["Côte d'Ivoire"] == "cote-d-ivoire"
    assert len(set(names.values())) == 5
    assert all(re.fullmatch(r"[a-z0-9-]+", slug) for slug in names.values())


@pytest.mark.slow  # starts a browser
def test_the_archive_opens_in_chromium_from_the_file_system(demo_site: Path,
                                                           tmp_path: Path) -> None:
    """From file://, as a reader who downloaded it: the index, a filter, an incident, its
    Arabic page, the map and the statistics (screenshots in VERIFY_SCREENSHOTS)."""
    import os
    import shutil

    path = os.environ.get("VERIFY_CHROMIUM") or shutil.which("chromium")
    if path is None:  # as tests/entrypoints/test_browser.py's browser fixture decides
        if os.environ.get("VERIFY_REQUIRE_BROWSER") == "1":
            pytest.fail("VERIFY_REQUIRE_BROWSER=1 but no Chromium found")
        pytest.skip("no Chromium found (install Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("VERIFY_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=["--headless=new", "--no-sandbox", "--disable-gpu",
                                        "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1100, "height": 800},
                                java_script_enabled=False)
        page.goto((demo_site / "index.html").as_uri())
        assert page.title() == "Incidents · verify"
        page.screenshot(path=str(shots / "publish-index.png"), full_page=True)
        page.click("text=Iraq")
        assert page.url.endswith("/lists/country-iraq-1.html")
        assert page.locator("tbody tr").count() == 2
        page.click("text=CI1050")
        assert page.url.endswith("/incidents/CI1050.html")
        assert "Mosul al-Jadida" in page.locator("h1").inner_text()
        page.screenshot(path=str(shots / "publish-incident.png"), full_page=True)
        page.click("text=العربية")
        assert page.url.endswith("/ar/incidents/CI1050.html")
        assert page.locator("html").get_attribute("dir") == "rtl"
        page.screenshot(path=str(shots / "publish-ar-incident.png"), full_page=True)
        page.goto((demo_site / "map.html").as_uri())
        assert page.locator("circle").count() >= 3
        page.screenshot(path=str(shots / "publish-map.png"), full_page=True)
        page.goto((demo_site / "stats.html").as_uri())
        assert page.locator("svg rect").count() > 1
        browser.close()


@pytest.mark.slow  # makes a release and publishes the whole archive
def test_a_release_is_published_as_it_was_made(tmp_path: Path) -> None:
    """`publish --release NAME` after later changes writes the archive the release's moment
    gave: the same pages and exports as publishing then, the export the release digested, and
    proofs that check against the release's seal line."""
    store = tmp_path / "verify.sqlite"
    run(store, "init")
    for code, day, place in (("CS3001", "2017-03-01", "Tabqa"), ("CS3002", "2017-03-02", "Raqqa"),
                             ("CS3003", "2017-04-04", "Mosul")):
        run(store, "report", code, "--date", day, "--location", place, "--country", "Syria",
            "--belligerent", "US-led Coalition", "--killed", "2-4", "--lat", "35.8",
            "--lon", "38.5")
    made = json.loads(run(store, "release", "create", "2017-04", "--json").stdout)
    run(store, "publish", str(tmp_path / "then"))  # the archive as it stood at the release

    for n in (1, 2):
        run(store, "source", "add", "CS3001", "--url", f"https://example.org/cs3001/{n}",
            "--publisher", f"Monitor {n}", "--kind", "ngo")
    run(store, "grade", "CS3001", "--grade", "fair", "--rationale", "two NGO sources agree")
    run(store, "amend", "CS3002", "--location", "Ain Issa", "--reason", "the hospital's list")
    run(store, "report", "CS3004", "--date", "2017-04-20", "--location", "Hajin",
        "--country", "Syria", "--belligerent", "Russia", "--killed", "1")
    run(store, "release", "create", "2017-05")
    published = json.loads(run(store, "publish", str(tmp_path / "site"), "--release", "2017-04",
                               "--json").stdout)

    site, then = tmp_path / "site", tmp_path / "then"
    assert published["release"] == "2017-04" and published["incidents"] == 3
    assert published["export_matches_release"] is True
    assert published["export_sha256"] == made["export_sha256"] == hashlib.sha256(
        (site / "exports/incidents.jsonl").read_bytes()).hexdigest()
    assert not (site / "incidents/CS3004.html").exists()
    compared = 0
    for page in written(then):
        name = page.relative_to(then)
        if name.name.startswith("seal.") or name.name.endswith(".proof.json"):
            continue
        assert (site / name).read_bytes() == page.read_bytes(), name
        compared += 1
    assert compared > 20
    assert {path.relative_to(site) for path in written(site)} == \
        {path.relative_to(then) for path in written(then)}
    assert "Ain Issa" not in (site / "incidents/CS3002.html").read_text()

    seal = json.loads((site / "seal.json").read_text())
    assert seal["release"]["name"] == "2017-04"
    assert (seal["events"], seal["merkle_root"]) == (made["events"], made["merkle_root"])
    root = PublishedRoot.parse(made["line"])
    proofs = sorted((site / "incidents").glob("*.proof.json"))
    assert len(proofs) == 3
    assert all(check_proof(proof.read_bytes(), root)["holds"] for proof in proofs)
    assert "2017-04" in (site / "seal.html").read_text()


def test_an_unknown_release_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = tmp_path / "verify.sqlite"
    run(store, "init")
    result = CliRunner().invoke(cli, ["--store", str(store), "publish", str(tmp_path / "site"),
                                      "--release", "nope"])
    assert result.exit_code == 2
    assert "there is no release named 'nope'" in result.stderr
    assert not (tmp_path / "site").exists()
