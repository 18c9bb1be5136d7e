"""Fixtures for the agents' tests: a fake language model server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.agents.fake_llm import FakeLLM


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM().start()
    try:
        yield llm
    finally:
        llm.stop()
