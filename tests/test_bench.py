"""Every benchmark script still runs (at a tiny size): they measure the code as it is now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SMALL = {
    "audit_verify.py": ["--events", "2000"],
    "changes.py": ["--incidents", "300", "--repeat", "1"],
    "evidence_files.py": ["--megabytes", "8", "--hashes", "2000"],
    "grade_all.py": ["--incidents", "200"],
    "import_throughput.py": ["--incidents", "1500"],
    "intake_rows.py": ["--rows", "200", "--repeat", "1"],
    "load_incident.py": ["--events", "120", "--repeat", "2"],
    "proofs.py": ["--events", "2000"],
    "publish.py": ["--incidents", "300"],
    "read_models.py": ["--incidents", "300", "--repeat", "1"],
    "strike_matching.py": ["--incidents", "300", "--reports", "300", "--sample", "10"],
    "web_pages.py": ["--incidents", "300", "--repeat", "2"],
}


def test_every_benchmark_is_listed() -> None:
    scripts = {path.name for path in (ROOT / "bench").glob("*.py")} - {"generate.py"}
    assert scripts == set(SMALL)


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
