"""The built-in agents over HTTP, offline (no model), and how an org's settings steer them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server.test_runs import finished
from tests.support.server import LiveServer


def run(client: httpx.Client, task: str, agent_type: str | None = None, **data: Any) -> dict:
    body: dict[str, Any] = {"task": task, "data": data}
    if agent_type:
        body["agent_type"] = agent_type
    response = client.post("/v1/run", json=body)
    assert response.status_code == 202, response.text
    return finished(client, response.json()["run_id"])


def put(client: httpx.Client, agent_type: str, settings: dict[str, Any]) -> None:
    response = client.put(f"/v1/agents/{agent_type}/settings", json=settings)
    assert response.status_code == 200, response.text


def checks(detail: dict) -> dict[str, str]:
    return {c["check"]: c["outcome"] for c in detail["run"]["output"]["checks"]}


def reason(detail: dict) -> str | None:
    item = detail["triage_item"]
    return item["triage_reason"] if item else None


# --- ap_specialist -------------------------------------------------------------------


def test_a_threshold_change_flips_an_invoice_to_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    before = run(client, "Process invoice INV-501", "ap_specialist", amount=5000)
    assert before["run"]["status"] == "completed"
    assert before["run"]["output"]["approved"] is True
    assert checks(before)["amount_threshold"] == "pass"

    put(client, "ap_specialist", {"auto_approval_threshold": 1000})
    after = run(client, "Process invoice INV-502", "ap_specialist", amount=5000)
    assert after["run"]["status"] == "awaiting_triage"
    assert reason(after) == "Amount above auto-approval threshold"
    assert after["run"]["output"]["decision"] == "needs_review"
    assert checks(after)["amount_threshold"] == "fail"


def test_the_approved_vendor_list_decides(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    put(client, "ap_specialist", {"approved_vendors": ["Acme", "Globex"]})
    approved = run(client, "Process invoice INV-11 from ACME for $120.00", "ap_specialist")
    assert approved["run"]["status"] == "completed"
    assert checks(approved)["approved_vendor"] == "pass"
    assert approved["run"]["output"]["vendor"] == "ACME"

    refused = run(client, "Process invoice INV-12 from Initech for $120.00", "ap_specialist")
    assert refused["run"]["status"] == "awaiting_triage"
    assert reason(refused) == "Vendor not approved: Initech"
    assert checks(refused)["approved_vendor"] == "fail"

    unknown = run(client, "Process invoice INV-13", "ap_specialist", amount=50)
    assert reason(unknown) == "Vendor not approved: unknown vendor"


def test_the_output_names_every_check(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    put(client, "ap_specialist", {"approved_vendors": ["Acme"]})
    data = {"invoice_number": "INV-21", "amount": 99.5, "vendor": "Acme", "currency": "usd"}
    detail = run(client, "Pay this", "ap_specialist", **data)
    output = detail["run"]["output"]
    assert detail["run"]["status"] == "completed"
    assert detail["run"]["confidence_score"] == 0.97
    assert output["currency"] == "USD"
    assert output["sources"] == dict.fromkeys(data, "data")
    assert [c["check"] for c in output["checks"]] == [
        "invoice_number_present",
        "amount_present",
        "amount_threshold",
        "approved_vendor",
        "currency",
        "duplicate_invoice",
    ]
    assert all(c["outcome"] == "pass" and c["detail"] for c in output["checks"])


def test_free_text_is_read_offline_and_the_currency_checked(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    task = "Pay Globex 4,200 euros for invoice 77"
    detail = run(client, task, "ap_specialist")
    output = detail["run"]["output"]
    assert (output["invoice_number"], output["amount"], output["vendor"]) == ("77", 4200, "Globex")
    assert output["sources"] == dict.fromkeys(
        ("invoice_number", "amount", "vendor", "currency"), "task"
    )
    assert detail["run"]["status"] == "awaiting_triage"
    assert reason(detail) == "Currency EUR differs from USD"

    put(client, "ap_specialist", {"currency": "EUR"})
    again = run(client, "Pay Globex 4,200 euros for invoice 78", "ap_specialist")
    assert again["run"]["status"] == "completed"
    assert again["run"]["output"]["approved"] is True


def test_malformed_fields_go_to_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    detail = run(client, "Process invoice INV-31", "ap_specialist", amount="twelve")
    assert detail["run"]["status"] == "awaiting_triage"
    assert reason(detail) == "Malformed invoice amount: 'twelve'"
    assert checks(detail)["amount_valid"] == "fail"

    detail = run(client, "Process invoice INV-32", "ap_specialist", amount=10, currency="dollars!")
    assert reason(detail) == "Malformed currency: 'dollars!'"


def test_the_org_confidence_threshold_sends_sure_runs_to_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    data = {"invoice_number": "INV-41", "amount": 10, "vendor": "Acme", "currency": "USD"}
    put(client, "ap_specialist", {"confidence_threshold": 0.99})
    detail = run(client, "Pay this", "ap_specialist", **data)
    assert detail["run"]["status"] == "awaiting_triage"
    assert reason(detail) == "Confidence 0.97 below the threshold 0.99"


# --- procurement_specialist ------------------------------------------------------------


def test_procurement_budget_limit_sends_to_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    within = run(client, "Buy 10 laptops", "procurement_specialist")
    assert within["run"]["status"] == "completed"
    assert within["run"]["output"]["within_budget"] is True

    put(client, "procurement_specialist", {"budget_limit": 5000})
    over = run(client, "Buy 10 laptops", "procurement_specialist")
    assert over["run"]["status"] == "awaiting_triage"
    assert reason(over) == "Total above budget limit"
    output = over["run"]["output"]
    assert output["within_budget"] is False and output["budget_limit"] == 5000
    assert output["recommended_total"] > 5000


def test_procurement_weights_change_the_recommendation(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    task = "Get 4 vendor quotes for 10 laptops"
    put(client, "procurement_specialist", {"weights": {"price": 1, "lead_time": 0, "rating": 0}})
    cheapest = run(client, task, "procurement_specialist")["run"]["output"]
    assert cheapest["recommended"] == "Lenovo"
    assert [q["unit_price"] for q in cheapest["quotes"]] == sorted(
        q["unit_price"] for q in cheapest["quotes"]
    )

    put(client, "procurement_specialist", {"weights": {"price": 0, "lead_time": 0, "rating": 1}})
    best_rated = run(client, task, "procurement_specialist")["run"]["output"]
    assert best_rated["recommended"] == "Apple"
    assert best_rated["weights"] == {"price": 0, "lead_time": 0, "rating": 1}
    assert len(best_rated["quotes"]) == 4


def test_procurement_catalogue_changes_the_recommendation(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    catalogue = [
        {
            "name": "Widgets Inc",
            "categories": ["parts"],
            "items": [{"item": "widget", "unit_price": 2.5}],
            "lead_time_days": 9,
            "rating": 4.0,
        },
        {
            "name": "Cogs & Co",
            "categories": ["parts"],
            "items": [{"item": "widget", "unit_price": 2.0}, {"item": "cog", "unit_price": 1}],
            "lead_time_days": 4,
            "rating": 4.2,
        },
    ]
    put(client, "procurement_specialist", {"catalogue": catalogue})
    widgets = run(client, "Buy 1,000 widgets", "procurement_specialist")["run"]
    # Two vendors where three quotes were wanted: less sure, still done.
    assert widgets["status"] == "completed" and widgets["confidence_score"] == 0.7
    output = widgets["output"]
    assert output["recommended"] == "Cogs & Co"
    assert output["vendors"] == ["Cogs & Co", "Widgets Inc"]
    assert output["category"] == "parts"
    assert output["recommended_total"] == 2000
    laptops = run(client, "Buy 10 laptops", "procurement_specialist")["run"]
    assert laptops["status"] == "failed"
    assert laptops["error_message"] == "No vendor in the catalogue sells 'laptop'"


# --- center ------------------------------------------------------------------------------


def test_center_delegates_and_records_the_specialist(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    detail = run(client, "Get 2 quotes for 5 monitors")
    run_ = detail["run"]
    assert run_["agent_type"] == "center"
    assert run_["status"] == "completed"
    output = run_["output"]
    assert output["specialist"] == "procurement_specialist"
    classify, delegate = output["steps"]
    assert classify["step"] == "classify" and classify["routed_by"] == "keywords"
    assert classify["result"] == "procurement_specialist"
    assert delegate["step"] == "delegate"
    assert delegate["agent_type"] == "procurement_specialist"
    assert delegate["confidence"] == run_["confidence_score"]
    assert len(output["quotes"]) == 2  # the specialist's own output


def test_center_passes_on_the_specialists_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    detail = run(client, "Process invoice INV-61 from Acme for $25,000")
    assert detail["run"]["status"] == "awaiting_triage"
    assert reason(detail) == "Amount above auto-approval threshold"
    assert detail["run"]["output"]["steps"][1]["triage_reason"] == reason(detail)


def test_center_fails_clearly_instead_of_guessing(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    nothing = run(client, "Book a meeting room for Tuesday")["run"]
    assert nothing["status"] == "failed"
    assert nothing["error_message"] == (
        "No specialist fits this task; name an agent_type "
        "(ap_specialist, procurement_specialist) or rephrase it"
    )
    both = run(client, "Pay for the order")["run"]
    assert both["status"] == "failed"
    assert both["error_message"].startswith(
        "The task reads like more than one specialist's (ap_specialist, procurement_specialist)"
    )
