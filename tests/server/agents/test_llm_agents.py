"""The built-in agents with a language model configured, through the API of a real server.

The model is a real OpenAI-compatible server on loopback (``fake_llm``); the EClips server
is told about it through ``ECLIPS_LLM_BASE_URL`` and ``ECLIPS_LLM_MODEL``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.agents.fake_llm import FakeLLM
from tests.server.test_runs import finished
from tests.support.server import LiveServer, database, free_port, start_server

READ_INVOICE = "Read the invoice"
ROUTE = "Route the task"


@pytest.fixture(scope="module")
def llm_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM
) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("llm")
    with database(backend, tmp) as url:
        server, process = start_server(
            backend,
            url,
            tmp,
            llm_base_url=fake_llm.base_url,
            llm_model="fake-model",
            llm_timeout_seconds=1,
        )
        try:
            yield server
        finally:
            process.stop()


@pytest.fixture(scope="module")
def dead_llm_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose model endpoint is a port nothing listens on."""
    tmp: Path = tmp_path_factory.mktemp("dead-llm")
    with database(backend, tmp) as url:
        server, process = start_server(
            backend,
            url,
            tmp,
            llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
            llm_model="fake-model",
        )
        try:
            yield server
        finally:
            process.stop()


def marked(text: str) -> str:
    """``text`` made unique, so the fake model's script and records are this test's own."""
    return f"{text} (ref {uuid.uuid4().hex[:8]})"


def run(client: httpx.Client, task: str, agent_type: str | None = None, **data: Any) -> dict:
    body: dict[str, Any] = {"task": task, "data": data}
    if agent_type:
        body["agent_type"] = agent_type
    response = client.post("/v1/run", json=body)
    assert response.status_code == 202, response.text
    return finished(client, response.json()["run_id"])


def test_ap_specialist_reads_free_text_with_the_model(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    put = client.put(
        "/v1/agents/ap_specialist/settings",
        json={"currency": "EUR", "approved_vendors": ["Globex"]},
    )
    assert put.status_code == 200
    task = marked("Pay Globex 4,200 euros for invoice 77")
    fake_llm.answer(
        user=task,
        system=READ_INVOICE,
        json_answer={
            "invoice_number": 77,
            "amount": "4,200",
            "vendor": "Globex",
            "currency": "EUR",
        },
    )
    detail = run(client, task, "ap_specialist")
    run_ = detail["run"]
    assert run_["status"] == "completed", run_
    output = run_["output"]
    assert (output["invoice_number"], output["amount"], output["vendor"], output["currency"]) == (
        "77",
        4200,
        "Globex",
        "EUR",
    )
    assert output["sources"] == dict.fromkeys(
        ("invoice_number", "amount", "vendor", "currency"), "model"
    )
    checks = {c["check"]: c["outcome"] for c in output["checks"]}
    assert checks == {
        "invoice_number_present": "pass",
        "invoice_number_in_task": "pass",
        "amount_present": "pass",
        "amount_threshold": "pass",
        "approved_vendor": "pass",
        "currency": "pass",
        "duplicate_invoice": "pass",
    }
    (request,) = fake_llm.asked(task)
    assert request["model"] == "fake-model"
    assert request["response_format"]["json_schema"]["name"] == "InvoiceFields"
    assert request["messages"][1] == {"role": "user", "content": task}


def test_policy_stays_in_code_whatever_the_model_says(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    """The model reads fields; it cannot approve. Over the threshold is still triage."""
    client = llm_server.client(llm_server.new_key())
    task = marked("Acme billed us fifty thousand dollars, invoice A-5, please approve it")
    fake_llm.answer(
        user=task,
        system=READ_INVOICE,
        content='{"invoice_number": "A-5", "amount": 50000, "vendor": "Acme", '
        '"currency": "USD", "approved": true}',
    )
    detail = run(client, task, "ap_specialist")
    assert detail["run"]["status"] == "awaiting_triage"
    assert detail["triage_item"]["triage_reason"] == "Amount above auto-approval threshold"
    assert detail["run"]["output"]["approved"] is False


def test_an_invented_invoice_number_goes_to_triage(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Pay Initech for the printer toner, 80 dollars")
    fake_llm.answer(
        user=task,
        system=READ_INVOICE,
        json_answer={"invoice_number": "INV-999", "amount": 80, "vendor": "Initech"},
    )
    detail = run(client, task, "ap_specialist")
    assert detail["run"]["status"] == "awaiting_triage"
    reason = detail["triage_item"]["triage_reason"]
    assert reason == "Invoice number INV-999 not found in the task text"


def test_center_routes_an_ambiguous_task_with_the_model(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    # "Pay" reads like accounts payable, "order" like procurement: the keywords tie.
    task = marked("Pay Initech for their toner order, 310 dollars, reference 4471")
    fake_llm.answer(user=task, system=ROUTE, json_answer={"label": "ap_specialist"})
    fake_llm.answer(
        user=task,
        system=READ_INVOICE,
        json_answer={"invoice_number": "4471", "amount": 310, "vendor": "Initech"},
    )
    detail = run(client, task)
    run_ = detail["run"]
    assert run_["agent_type"] == "center"
    assert run_["status"] == "completed", run_
    output = run_["output"]
    assert output["specialist"] == "ap_specialist"
    assert output["steps"][0]["routed_by"] == "model"
    assert output["steps"][1] == {
        "step": "delegate",
        "agent_type": "ap_specialist",
        "confidence": 0.85,
        "triage_reason": None,
    }
    assert output["invoice_number"] == "4471" and output["approved"] is True
    route, read = fake_llm.asked(task)
    assert route["response_format"]["json_schema"]["name"] == "route"
    assert "procurement_specialist" in route["messages"][0]["content"]
    assert read["response_format"]["json_schema"]["name"] == "InvoiceFields"


def test_center_fails_when_the_model_finds_no_specialist(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Write me a poem about autumn")
    fake_llm.answer(user=task, system=ROUTE, json_answer={"label": None})
    run_ = run(client, task)["run"]
    assert run_["status"] == "failed"
    assert "No specialist fits this task" in run_["error_message"]
    assert len(fake_llm.asked(task)) == 1


def test_procurement_reads_the_request_with_the_model(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("We need forty ergonomic office chairs for the new floor")
    fake_llm.answer(
        user=task, json_answer={"item": "ergonomic office chairs", "quantity": 40, "quotes": 2}
    )
    run_ = run(client, task, "procurement_specialist")["run"]
    assert run_["status"] == "completed", run_
    output = run_["output"]
    assert (output["item"], output["quantity"], output["read_by"]) == ("chair", 40, "model")
    assert len(output["quotes"]) == 2
    assert all(q["total"] == q["unit_price"] * 40 for q in output["quotes"])
    (request,) = fake_llm.asked(task)
    assert request["response_format"]["json_schema"]["name"] == "PurchaseText"
    assert "chair" in request["messages"][0]["content"]  # the catalogue's items


def test_a_garbage_answer_fails_the_run_clearly(llm_server: LiveServer, fake_llm: FakeLLM) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Pay Globex for invoice 12")
    fake_llm.answer(user=task, content="I'm sorry, as a language model I cannot help with that.")
    run_ = run(client, task, "ap_specialist")["run"]
    assert run_["status"] == "failed"
    assert run_["error_message"].startswith("The language model's answer has no JSON object")
    assert run_["credits_charged"] == 0


def test_a_model_that_errors_fails_the_run_clearly(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Pay Globex for invoice 13")
    fake_llm.answer(user=task, content="out of memory", status=503)
    run_ = run(client, task, "ap_specialist")["run"]
    assert run_["status"] == "failed"
    assert run_["error_message"] == "The language model answered HTTP 503: 'out of memory'"


def test_a_model_that_hangs_fails_the_run_after_its_timeout(
    llm_server: LiveServer, fake_llm: FakeLLM
) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Pay Globex for invoice 14")
    fake_llm.answer(user=task, content="{}", delay=5)
    run_ = run(client, task, "ap_specialist")["run"]
    assert run_["status"] == "failed"
    assert "did not answer within 1 s" in run_["error_message"]


def test_complete_data_needs_no_model(llm_server: LiveServer, fake_llm: FakeLLM) -> None:
    client = llm_server.client(llm_server.new_key())
    task = marked("Process this invoice")
    data = {"invoice_number": "INV-5", "amount": 10, "vendor": "Acme", "currency": "USD"}
    run_ = run(client, task, "ap_specialist", **data)["run"]
    assert run_["status"] == "completed"
    assert set(run_["output"]["sources"].values()) == {"data"}
    assert fake_llm.asked(task) == []


def test_a_model_that_is_down_fails_the_run_clearly(dead_llm_server: LiveServer) -> None:
    client = dead_llm_server.client(dead_llm_server.new_key())
    run_ = run(client, "Pay Globex 4,200 euros for invoice 77", "ap_specialist")["run"]
    assert run_["status"] == "failed"
    assert run_["error_message"].startswith(
        "Could not reach the language model at http://127.0.0.1"
    )
