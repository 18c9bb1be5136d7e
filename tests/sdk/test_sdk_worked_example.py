"""The manual's worked example, as written in docs/sdk.md, runs against a real server."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.server import LiveServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def worked_example() -> str:
    text = DOC.read_text()
    block = re.search(
        r"<!-- worked-example:start -->\s*```python\n(.*?)```\s*<!-- worked-example:end -->",
        text,
        re.S,
    )
    assert block is not None, "docs/sdk.md lost its worked example markers"
    return block.group(1)


def test_worked_example_runs_as_documented(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ECLIPS_API_KEY", live_server.new_key())
    monkeypatch.setenv("ECLIPS_BASE_URL", live_server.base_url)
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: real_sleep(min(seconds, 0.3)))

    namespace: dict[str, object] = {"__name__": "worked_example"}
    exec(compile(worked_example(), str(DOC), "exec"), namespace)

    lines = capsys.readouterr().out.splitlines()
    progress = [tuple(map(int, line.split(" / "))) for line in lines[:-1]]
    assert progress, "the loop polled at least once"
    assert all(total == 120 for _, total in progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    job = namespace["job"]
    assert job.status in ("completed", "awaiting_triage")  # type: ignore[attr-defined]
    assert lines[-1] == f"done: {job.completed_rows} failed: {job.failed_rows}"  # type: ignore[attr-defined]
    assert job.completed_rows + job.failed_rows + job.triage_rows == 120  # type: ignore[attr-defined]
