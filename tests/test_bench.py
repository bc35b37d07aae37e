"""Every benchmark script still runs (at a tiny size): they measure the code as it is now.

The sizes live in bench/all.py's SIZES (`small` here, `quick` for `bench/all.py --quick`),
so a new script is listed once, for both.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_runner() -> ModuleType:
    """bench/all.py as a module (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_all", ROOT / "bench" / "all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


RUNNER = load_runner()
SMALL = {script: list(sizes.small) for script, sizes in RUNNER.SIZES.items()}


def test_every_benchmark_is_listed() -> None:
    scripts = {path.name for path in (ROOT / "bench").glob("*.py")} - {"generate.py", "all.py"}
    assert scripts == set(SMALL)
    assert set(RUNNER.benchmarks()) == scripts


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALL))
def test_a_benchmark_runs_and_prints_its_baseline(script: str, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *SMALL[script]],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "baseline" in result.stdout, result.stdout


def test_generate_writes_an_archive(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "20", str(out)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 20


def test_the_runner_lists_every_benchmark_with_its_quick_size() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "all.py"), "--quick", "--list"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert listed == {script: " ".join(sizes.quick) for script, sizes in RUNNER.SIZES.items()}


def test_the_runner_runs_each_script_and_sums_up(tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    passing, failing, slow = (tmp_path / name for name in ("passes.py", "fails.py", "slow.py"))
    passing.write_text("import sys; print('figure beside its baseline', sys.argv[1:])\n")
    failing.write_text("raise SystemExit(3)\n")
    slow.write_text("import time; time.sleep(60)\n")
    outcomes = [RUNNER.run_script(passing, ["--rows", "5"], timeout=60),
                RUNNER.run_script(failing, [], timeout=60),
                RUNNER.run_script(slow, [], timeout=0.5)]
    assert [outcome.status for outcome in outcomes] == ["0", "3", "stopped after 0.5 s"]
    table = RUNNER.summary(outcomes, "--quick")
    assert "failed: fails.py, slow.py" in table
    assert "passes.py" in table.splitlines()[2]
    printed = capfd.readouterr().out
    assert "== passes.py --rows 5\nfigure beside its baseline ['--rows', '5']" in printed


def test_the_runner_exits_1_when_a_script_has_no_quick_size(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delitem(RUNNER.SIZES, "intake_rows.py")
    assert RUNNER.main(["--quick", "intake_rows.py"]) == 1
    assert "intake_rows.py" in capsys.readouterr().out.split("failed:")[-1]
