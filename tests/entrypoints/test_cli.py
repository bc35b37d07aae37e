"""The command line, driven through click's CliRunner as a user would type it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.entrypoints.cli import cli

Run = Callable[..., Result]


@pytest.fixture
def run(store_url: str) -> Run:
    """Run `verify --store <fresh store> ARGS...` and return click's result."""
    runner = CliRunner()

    def invoke(*args: str, actor: str = "ann", env: dict[str, str] | None = None) -> Result:
        return runner.invoke(
            cli, ["--store", store_url, "--actor", actor, *args], env=env or {},
            catch_exceptions=False,
        )

    return invoke


@pytest.fixture
def store(run: Run) -> Run:
    assert run("init").exit_code == 0
    return run


def reported(run: Run, code: str = "CI1050") -> None:
    result = run("report", code, "--date", "2017-03-17", "--location", "Mosul al-Jadida, Mosul",
                 "--country", "Iraq", "--belligerent", "US-led Coalition", "--lat", "36.34",
                 "--lon", "43.10", "--precision", "neighbourhood", "--killed", "100-200",
                 "--summary", "Strike on a residential block.")
    assert result.exit_code == 0, result.output
    assert f"reported {code}" in result.output


def add_source(run: Run, code: str, n: int, rating: str = "B2", group: str = "") -> Result:
    args = ["source", "add", code, "--url", f"https://example.org/{n}", "--publisher",
            f"Publisher {n}", "--kind", "ngo", "--reliability", rating[0],
            "--credibility", rating[1]]
    if group:
        args += ["--group", group]
    return run(*args)


def event_count(run: Run, code: str) -> int:
    return len(json.loads(run("history", code, "--json").output))


def assert_one_sentence(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_init_is_idempotent(run: Run, store_url: str) -> None:
    first = run("init")
    assert first.exit_code == 0 and "created store" in first.output
    if "://" not in store_url:
        assert Path(store_url).is_file()
    second = run("init")
    assert second.exit_code == 0 and "ready (0 incidents)" in second.output


def test_commands_need_a_store(run: Run) -> None:
    assert_one_sentence(run("show", "CS1"), 2, "run `verify init`")


def test_a_case_driven_by_hand_ends_fair(store: Run) -> None:
    reported(store)
    assert add_source(store, "CI1050", 1, "B2", "amnesty").exit_code == 0
    second = add_source(store, "CI1050", 2, "C3", "local-media")
    assert "now corroborated" in second.output
    strike = store("strike", "confirm", "CI1050", "--belligerent", "US-led Coalition",
                   "--status", "declared", "--report", "CJTF-OIR 2017-03-17", actor="jonas")
    assert strike.exit_code == 0
    suggestion = json.loads(store("grade", "CI1050", "--suggest", "--json").output)
    assert suggestion["grade"] == "fair" and suggestion["rule"] == "FAIR"
    assert suggestion["reasons"] and "2 independent credible sources" in suggestion["reasons"][0]
    assert event_count(store, "CI1050") == 5  # --suggest recorded nothing
    graded = store("grade", "CI1050", actor="jonas")
    assert graded.exit_code == 0 and "graded fair by rule FAIR" in graded.output

    shown = json.loads(store("show", "ci1050", "--json").output)
    for key in ("code", "state", "grade", "date", "country", "belligerents", "civilians_killed",
                "sources", "version"):
        assert key in shown
    assert shown["grade"] == "fair" and shown["state"] == "graded"
    assert shown["civilians_killed"] == {"min": 100, "max": 200}
    assert shown["grading"]["rule"] == "FAIR" and shown["grading"]["by"] == "jonas"

    history = json.loads(store("history", "CI1050", "--json").output)
    assert [h["event"] for h in history] == [
        "Reported", "SourceAdded", "SourceAdded", "Corroborated", "StrikeConfirmed", "Graded"]
    assert all(h["actor"] and h["at"] for h in history)
    text = store("history", "CI1050").output
    assert "jonas" in text and "graded fair by rule FAIR" in text

    before_grade = history[-2]["at"]
    as_of = json.loads(store("show", "CI1050", "--as-of", before_grade, "--json").output)
    assert as_of["grade"] is None and as_of["state"] == "strike-confirmed"
    assert json.loads(store("show", "CI1050", "--version", "1", "--json").output)["state"] == (
        "reported")
    assert "ungraded" in store("show", "CI1050", "--as-of", before_grade).output


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["show", "CS404"], 2, "no incident has the code CS404"),
        (["report", "CS2", "--date", "2017-03-17", "--location", "x", "--country", "Iraq",
          "--belligerent", "B", "--killed", "5-2"], 2, "the minimum 5 is above the maximum 2"),
        (["report", "CS2", "--date", "2017-03-17", "--location", "x", "--country", "Iraq",
          "--belligerent", "B", "--lat", "200", "--lon", "1"], 2, "lat"),
        (["report", "CS2", "--date", "2017-02-30", "--location", "x", "--country", "Iraq",
          "--belligerent", "B"], 2, "that month has no such day"),
        (["report", "not a code", "--date", "2017-03-17", "--location", "x", "--country", "I",
          "--belligerent", "B"], 2, "not an incident code"),
        (["source", "add", "CI1050", "--url", "u", "--publisher", "p", "--kind", "ngo",
          "--reliability", "Z"], 2, "'Z' is not one of"),
        (["source", "add", "CI1050", "--url", "u", "--publisher", "p", "--kind", "ngo",
          "--credibility", "9"], 2, "--credibility"),
        (["grade", "CI1050"], 1, "cannot be graded: it has no source"),
        (["resolve", "CI1050", "--dismissed", "--rationale", "x"], 1, "no open dispute"),
        (["resolve", "CI1050", "--rationale", "x"], 2, "--upheld or --dismissed"),
        (["resolve", "CI1050", "--upheld", "--dismissed", "--rationale", "x"], 2,
         "--upheld or --dismissed, one of them"),
        (["dispute", "CI1050", "--by", "x", "--reason", "y"], 1, "no grade to dispute"),
        (["grade", "CI1050", "--grade", "fair"], 2, "needs --rationale"),
        (["grade", "CI1050", "--grade", "great", "--rationale", "x"], 2, "--grade"),
        (["grade"], 2, "give an incident CODE, or --all"),
        (["show", "CI1050", "--as-of", "yesterday"], 2, "not a date"),
        (["show", "CI1050", "--version", "99"], 2, "versions 1 to 1"),
        (["show", "CI1050", "--as-of", "2001-01-01"], 2, "first reported"),
        (["duplicate", "CI1050", "--of", "CI1050"], 1, "duplicate of itself"),
        (["strike", "confirm", "CI1050", "--belligerent", "Russia", "--status", "likely"], 1,
         "alleges US-led Coalition"),
        (["report", "ci1050", "--date", "2017-03-17", "--location", "x", "--country", "Iraq",
          "--belligerent", "B"], 1, "already exists"),
        (["discount", "CI1050", "--rationale", "x"], 2, "--combatants or --other-party"),
        (["nonsense"], 2, "No such command"),
    ],
)
def test_bad_input_is_one_sentence_and_appends_nothing(
    store: Run, args: list[str], code: int, fragment: str
) -> None:
    reported(store)
    before = event_count(store, "CI1050")
    assert_one_sentence(store(*args), code, fragment)
    assert event_count(store, "CI1050") == before


def test_actor_comes_from_option_then_environment(store_url: str) -> None:
    runner = CliRunner()
    base = ["--store", store_url]
    runner.invoke(cli, [*base, "init"])
    runner.invoke(cli, [*base, "report", "CS1", "--date", "2017-03-17", "--location", "x",
                        "--country", "Syria", "--belligerent", "B"], env={"VERIFY_ACTOR": "zed"})
    runner.invoke(cli, [*base, "--actor", "yan", "note", "CS1", "checked the map"],
                  env={"VERIFY_ACTOR": "zed"})
    history = json.loads(runner.invoke(cli, [*base, "history", "CS1", "--json"]).output)
    assert [h["actor"] for h in history] == ["zed", "yan"]


def test_store_comes_from_environment_and_sqlite_urls(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "team" / "cases.sqlite"
    result = runner.invoke(cli, ["init", "--parents"], env={"VERIFY_STORE": f"sqlite:///{path}"})
    assert result.exit_code == 0 and path.is_file()
    again = runner.invoke(cli, ["--store", str(path), "init"])
    assert "ready" in again.output


def test_default_store_is_verify_sqlite_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERIFY_STORE", raising=False)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "verify.sqlite").is_file()


def test_a_file_that_is_not_a_store_is_explained(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not a database, it is text long enough to matter" * 20)
    result = CliRunner().invoke(cli, ["--store", str(bogus), "show", "CS1"])
    assert_one_sentence(result, 2, "is not a verify store")


def test_an_unreachable_postgresql_server_is_one_sentence() -> None:
    result = CliRunner().invoke(cli, ["--store", "postgresql://nobody@127.0.0.1:1/none",
                                      "show", "CS1"])
    assert_one_sentence(result, 1, "cannot use the PostgreSQL store at 127.0.0.1:1/none")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("postgresql://u@h/db?colour=red", "only ?schema=NAME"),
     ("postgresql://u@h/db?schema=a;drop", "must be lower-case letters, digits and _"),
     ("postgresql://u@h:port/db", "port"),
     ("postgresql://u@h/", "needs a database name"),
     ("mysql://u@h/db", "unknown store kind")],
)
def test_bad_store_addresses_are_one_sentence(url: str, fragment: str) -> None:
    assert_one_sentence(CliRunner().invoke(cli, ["--store", url, "init"]), 2, fragment)


def test_passwords_are_never_printed() -> None:
    result = CliRunner().invoke(
        cli, ["--store", "postgresql://clerk:s3cret-pw@127.0.0.1:1/none", "show", "CS1"])
    assert "s3cret-pw" not in result.output + result.stderr


def test_review_commands_end_to_end(store: Run) -> None:
    reported(store)
    add_source(store, "CI1050", 1, "B2")
    add_source(store, "CI1050", 2, "D4")
    assert store("source", "rerate", "CI1050", "s2", "--reliability", "c", "--credibility", "3",
                 "--reason", "track record checked").exit_code == 0
    assert json.loads(store("show", "CI1050", "--json").output)["state"] == "corroborated"
    assert store("source", "withdraw", "CI1050", "s2", "--reason", "deleted post").exit_code == 0
    assert store("contest", "CI1050", "--belligerent", "Iraqi ground forces",
                 "--reason", "artillery also reported").exit_code == 0
    assert store("assess", "CI1050", "--belligerent", "US-led Coalition", "--outcome",
                 "NON_CREDIBLE", "--reason", "no civilians seen", "--conceded-killed", "0"
                 ).exit_code == 0
    assert store("revise", "CI1050", "--killed", "105-200", "--reason", "bodies recovered"
                 ).exit_code == 0
    assert store("note", "CI1050", "call the hospital").exit_code == 0
    assert "graded contested by rule CONTESTED" in store("grade", "CI1050").output
    assert store("dispute", "CI1050", "--by", "researcher", "--reason", "claim withdrawn",
                 actor="carol").exit_code == 0
    upheld = store("resolve", "CI1050", "--upheld", "--rationale", "the claim was withdrawn")
    assert upheld.exit_code == 0 and "grade it again" in upheld.output
    shown = json.loads(store("show", "CI1050", "--json").output)
    assert shown["grade"] is None and shown["state"] == "corroborated"
    assert store("discount", "CI1050", "--other-party", "ISIS", "--rationale",
                 "ISIS shelling reported by residents").exit_code == 0
    override = store("grade", "CI1050", "--grade", "WEAK", "--rationale", "too early", "--json")
    assert json.loads(override.output)["rule"] == "OVERRIDE"
    reported(store, "CI1051")
    assert store("duplicate", "ci1051", "--of", "ci1050").exit_code == 0
    text = store("show", "CI1051").output
    assert "duplicate of CI1050" in text
    history = store("history", "CI1050").output
    for fragment in ("re-rated source s2 to C3", "withdrew source s2", "competing claim",
                     "assessed it non_credible", "revised civilians killed from 100-200 to 105-200",
                     "note added", "dispute upheld", "graded weak by override"):
        assert fragment in history


def test_grade_all_summarises_and_exits_zero(store: Run) -> None:
    reported(store, "CS1")
    reported(store, "CS2")
    reported(store, "CS3")
    add_source(store, "CS1", 1)
    add_source(store, "CS2", 2)
    result = store("grade", "--all")
    assert result.exit_code == 0, result.output
    assert "graded 2 incidents: weak 2" in result.output
    assert "1 cannot be graded (no source): CS3" in result.output
    summary = json.loads(store("grade", "--all", "--json").stdout)
    assert summary == {"graded": 0, "by_grade": {}, "incidents_by_grade": {}, "proposed": {},
                       "proposed_incidents": {}, "not_gradable": ["CS3"], "conflicts": [],
                       "regrade_due": []}


def test_arabic_text_survives(store: Run) -> None:
    result = store("report", "CS77", "--date", "2017-03-16", "--location", "الجينة",
                   "--country", "سوريا", "--belligerent", "التحالف",
                   "--summary", "القصف استهدف مسجداً")
    assert result.exit_code == 0
    shown = json.loads(store("show", "CS77", "--json").output)
    assert shown["location"]["name"] == "الجينة"
    assert shown["summary"] == "القصف استهدف مسجداً"


def test_help_explains_every_command(run: Run) -> None:
    top = run("--help").output
    for command in ("init", "report", "source", "strike", "contest", "assess", "grade",
                    "dispute", "resolve", "duplicate", "show", "history", "demo"):
        assert command in top
    assert "--suggest" in run("grade", "--help").output
    bare = CliRunner().invoke(cli, [])
    assert bare.exit_code == 0 and "Commands:" in bare.output


def test_postgres_password_comes_from_the_url_or_pgpassword(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verify.adapters.store import parse_store

    monkeypatch.setenv("PGPASSWORD", "from-environment")
    plain = parse_store("postgresql://clerk@db.example:5432/cases?schema=team")
    assert plain.env()["POSTGRES_PASSWORD"] == "from-environment"
    assert "from-environment" not in plain.label
    given = parse_store("postgresql://clerk:in-url@db.example/cases")
    assert given.env()["POSTGRES_PASSWORD"] == "in-url"
    assert "in-url" not in given.label
    assert given.label == "postgresql://clerk@db.example:5432/cases"


# ------------------------------------------- paths the system refuses (issue 15)


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process may not create files in (as root, permissions do not stop it:
    sysfs does)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("where", ["unwritable-folder", "name-too-long", "path-too-long"])
def test_export_where_it_cannot_be_written_is_one_sentence_and_writes_nothing(
        store: Run, tmp_path: Path, where: str) -> None:
    reported(store)
    folder = {"unwritable-folder": unwritable_folder(tmp_path),
              "name-too-long": tmp_path, "path-too-long": tmp_path}[where]
    name = "x" * 300 + ".jsonl" if where == "name-too-long" else "out.jsonl"
    if where == "path-too-long":
        folder = tmp_path / "/".join(["d" * 200] * 25)  # over PATH_MAX (4,096 bytes)
    result = store("export", "-o", str(folder / name))
    assert_one_sentence(result, 2, "cannot write")
    assert "characters)" in result.stderr or where == "unwritable-folder"
    assert len(result.stderr) < 300
    # The name too long is found at the rename: the temporary file is gone too.
    left = [path.name for path in tmp_path.iterdir() if not path.name.startswith("verify.")]
    assert left == []


@pytest.mark.parametrize("command", [["init"], ["queue"], ["import", "rows.jsonl"]])
def test_a_store_name_over_255_characters_is_one_sentence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rows.jsonl").write_text("")
    result = CliRunner().invoke(cli, ["--store", "s" * 300 + ".sqlite", *command])
    assert_one_sentence(result, 2, "File name too long")
    assert "(307 characters)" in result.stderr and len(result.stderr) < 200


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder-link"])
def test_an_import_file_that_is_not_a_regular_file_is_one_sentence(
        store: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "rows.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        (tmp_path / "folder").mkdir()
        path.symlink_to(tmp_path / "folder")
    result = store("import", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert store("queue", "--json").output.strip() == "[]"


# ------------------------------------------------ terminal text (issue 15)

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\r\x9b31m\u202eevil\u2066"


def test_imported_escape_sequences_are_shown_inert_and_kept_exact(store: Run,
                                                                 tmp_path: Path) -> None:
    """Control characters and bidi overrides are stored as typed and shown spelt out."""
    row = {"code": "CS77", "date": "2017-03-17", "country": "Iraq",
           "location": {"name": "Mosul" + ESCAPES}, "summary": "a" + ESCAPES + "b",
           "notes": ["n" + ESCAPES], ESCAPES: "unknown field"}
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    imported = store("import", str(path))
    assert imported.exit_code == 0, imported.output
    shown = store("show", "CS77")
    assert shown.exit_code == 0
    for text in (shown.stdout, imported.stderr):
        assert not any(char in text for char in "\x1b\x07\r\x9b\u202e\u2066"), repr(text)
    assert "a\\x1b[2J\\x1b]0;pwned\\x07\\r\\x9b31m\\u202eevil\\u2066b" in shown.stdout
    document = json.loads(store("show", "CS77", "--json").stdout)
    assert document["summary"] == "a" + ESCAPES + "b"
    assert document["location"]["name"] == "Mosul" + ESCAPES
    exported = store("export").stdout_bytes
    assert json.loads(exported)["summary"] == "a" + ESCAPES + "b"


def test_arabic_and_its_direction_marks_are_shown_as_they_are(store: Run) -> None:
    name = "\u0627\u0644\u0645\u0648\u0635\u0644\u200f \u0627\u0644\u062c\u062f\u064a\u062f\u0629"
    result = store("report", "CS78", "--date", "2017-03-17", "--location", name,
                   "--country", "Iraq", "--belligerent", "B")
    assert result.exit_code == 0, result.output
    assert name in store("show", "CS78").stdout


def test_a_sheet_refused_whole_says_one_sentence_even_when_long(store: Run,
                                                                tmp_path: Path) -> None:
    """Found by the hostile-file fuzz: a file of more lines than the progress bar's
    threshold printed the bar's label before the refusal."""
    path = tmp_path / "blank.csv"
    path.write_text("\n" * 1000)
    assert_one_sentence(store("import", str(path)), 2, "the sheet is empty")
