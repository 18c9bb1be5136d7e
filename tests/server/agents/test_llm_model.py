"""OpenAICompatibleModel against a real chat-completions server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from pydantic import BaseModel

from eclips.server.agents.base import AgentError
from eclips.server.agents.llm import OpenAICompatibleModel, first_json_object, model_from_settings
from eclips.server.settings import Settings
from tests.server.agents.fake_llm import FakeLLM
from tests.support.server import free_port

T = TypeVar("T")
LABELS = {"ap_specialist": "Invoices and payments.", "procurement_specialist": "Buying things."}


class Invoice(BaseModel):
    invoice_number: str | None = None
    amount: float | None = None


def model(fake_llm: FakeLLM, name: str = "fake-model", **kwargs: float) -> OpenAICompatibleModel:
    return OpenAICompatibleModel(base_url=fake_llm.base_url, model=name, max_retries=0, **kwargs)


def run(llm: OpenAICompatibleModel, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` in a fresh event loop and close the model's connections in it."""

    async def main() -> T:
        try:
            return await call()
        finally:
            await llm.aclose()

    return asyncio.run(main())


def extract(llm: OpenAICompatibleModel, text: str) -> Invoice:
    return run(
        llm, lambda: llm.extract(instructions="Read the invoice.", text=text, schema=Invoice)
    )


def classify(llm: OpenAICompatibleModel, text: str) -> str | None:
    return run(llm, lambda: llm.classify(text=text, labels=LABELS))


def test_extract_asks_for_the_schema_and_validates_the_answer(fake_llm: FakeLLM) -> None:
    fake_llm.answer(user="m1 invoice", json_answer={"invoice_number": "INV-9", "amount": 12.5})
    llm = model(fake_llm)
    assert extract(llm, "m1 invoice INV-9 for 12.50") == Invoice(
        invoice_number="INV-9", amount=12.5
    )
    (request,) = fake_llm.asked("m1 invoice")
    assert request["model"] == "fake-model"
    assert request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == "Invoice"
    assert "amount" in request["response_format"]["json_schema"]["schema"]["properties"]
    assert "Read the invoice." in request["messages"][0]["content"]


@pytest.mark.parametrize(
    ("name", "formats"),
    [
        ("no-json-schema", ["json_schema", "json_object"]),
        ("no-response-format", ["json_schema", "json_object", None]),
    ],
)
def test_steps_down_to_what_the_server_supports(
    fake_llm: FakeLLM, name: str, formats: list[str | None]
) -> None:
    marker = f"m2 {name}"
    fake_llm.answer(user=marker, content='Sure! ```json\n{"invoice_number": "INV-2"}\n```')
    llm = model(fake_llm, name)

    async def twice() -> list[Invoice]:
        return [
            await llm.extract(instructions="Read it.", text=marker, schema=Invoice)
            for _ in range(2)
        ]

    assert [i.invoice_number for i in run(llm, twice)] == ["INV-2", "INV-2"]
    sent = [(r.get("response_format") or {}).get("type") for r in fake_llm.asked(marker)]
    # The step down is remembered: the second extraction goes straight to what works.
    assert sent == [*formats, formats[-1]]


def test_an_answer_without_json_is_an_agent_error(fake_llm: FakeLLM) -> None:
    fake_llm.answer(user="m3 prose", content="I think the invoice is probably fine!")
    with pytest.raises(AgentError, match="no JSON object: 'I think the invoice"):
        extract(model(fake_llm), "m3 prose")


def test_an_answer_of_the_wrong_shape_is_an_agent_error(fake_llm: FakeLLM) -> None:
    fake_llm.answer(user="m4 shape", json_answer={"amount": "a lot"})
    with pytest.raises(AgentError, match="does not fit Invoice: amount"):
        extract(model(fake_llm), "m4 shape")


def test_server_errors_and_unreadable_bodies_are_agent_errors(fake_llm: FakeLLM) -> None:
    fake_llm.answer(user="m5 boom", content="model crashed", status=500)
    fake_llm.answer(user="m5 html", raw_body="<html>Bad gateway</html>")
    with pytest.raises(AgentError, match="answered HTTP 500: 'model crashed'"):
        extract(model(fake_llm), "m5 boom")
    with pytest.raises(AgentError, match="not a chat completion: '<html>Bad gateway</html>'"):
        extract(model(fake_llm), "m5 html")


def test_a_slow_model_times_out(fake_llm: FakeLLM) -> None:
    fake_llm.answer(user="m6 slow", content="{}", delay=3)
    start = time.monotonic()
    with pytest.raises(AgentError, match=r"did not answer within 0\.5 s"):
        extract(model(fake_llm, timeout=0.5), "m6 slow")
    assert time.monotonic() - start < 2.5


def test_a_server_that_is_down_fails_fast() -> None:
    down = OpenAICompatibleModel(base_url=f"http://127.0.0.1:{free_port()}/v1", model="x")
    start = time.monotonic()
    with pytest.raises(AgentError, match="Could not reach the language model at http://127"):
        extract(down, "x")
    assert time.monotonic() - start < 10  # the client's own retries, with backoff


@pytest.mark.parametrize(
    ("content", "label"),
    [
        ('{"label": "procurement_specialist"}', "procurement_specialist"),
        ('{"label": null}', None),
        ('{"label": "hr_specialist"}', None),  # not an option: no specialist fits
        ("AP_Specialist", "ap_specialist"),  # a bare label, as small models answer
        ("<think>{maybe} it is about buying</think>\n{'label'...", None),
    ],
)
def test_classify(fake_llm: FakeLLM, content: str, label: str | None) -> None:
    marker = f"m7 {content}"
    fake_llm.answer(user=marker, content=content)
    if content.startswith("<think>"):
        with pytest.raises(AgentError, match="no label"):
            classify(model(fake_llm), marker)
        return
    assert classify(model(fake_llm), marker) == label
    request = fake_llm.asked(marker)[0]
    assert "ap_specialist: Invoices and payments." in request["messages"][0]["content"]
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["label"]["enum"] == [*LABELS, None]


def test_first_json_object() -> None:
    assert first_json_object('<think>{"no": 1}</think> here: {"a": {"b": [1]}} and {"c": 2}') == {
        "a": {"b": [1]}
    }
    assert first_json_object("{not json} then [1] then {}") == {}
    assert first_json_object("nothing") is None


def test_model_from_settings() -> None:
    assert model_from_settings(Settings(llm_base_url=None, llm_model="m")) is None
    assert (
        model_from_settings(Settings(llm_base_url="http://127.0.0.1:9/v1", llm_model=None)) is None
    )
    llm = model_from_settings(
        Settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout_seconds=7)
    )
    assert isinstance(llm, OpenAICompatibleModel)
    assert (llm.base_url, llm.model, llm.timeout) == ("http://127.0.0.1:9/v1", "m", 7)
