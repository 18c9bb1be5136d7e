"""Human triage: items appear for escalated runs, are approved or rejected exactly once."""

from __future__ import annotations

from tests.server.test_runs import ISO, finished
from tests.support.server import LiveServer, wait_for


def escalate(client, *, amount: float = 25_000, invoice: str = "INV-1001") -> str:
    response = client.post(
        "/v1/run",
        json={
            "agent_type": "ap_specialist",
            "task": f"Process invoice {invoice}",
            "data": {"amount": amount},
        },
    )
    run_id = response.json()["run_id"]
    finished(client, run_id)
    return run_id


def test_escalated_invoice_is_listed_and_approved(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = escalate(client)
    detail = client.get(f"/v1/runs/{run_id}").json()
    assert detail["run"]["status"] == "awaiting_triage"
    assert detail["run"]["requires_triage"] is True
    assert detail["triage_item"]["triage_reason"] == "Amount above auto-approval threshold"

    listing = client.get("/v1/triage", params={"limit": 20, "offset": 0}).json()
    assert listing["total"] == 1 and listing["limit"] == 20 and listing["offset"] == 0
    item = listing["data"][0]
    assert item["run_id"] == run_id
    assert item["status"] == "pending"
    assert item["triage_reason"] == "Amount above auto-approval threshold"
    assert ISO.match(item["created_at"])
    assert item["agent_runs"]["id"] == run_id
    assert item["agent_runs"]["agent_type"] == "ap_specialist"
    assert 0 <= item["agent_runs"]["confidence_score"] <= 1

    response = client.post(
        f"/v1/triage/{item['id']}/approve",
        json={"resolution_note": "Verified against PO — approved"},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == item["id"] and data["status"] == "approved"
    assert ISO.match(data["resolved_at"])
    run = client.get(f"/v1/runs/{run_id}").json()["run"]
    assert run["status"] == "completed" and run["requires_triage"] is False
    assert client.get("/v1/triage").json()["total"] == 0

    again = client.post(f"/v1/triage/{item['id']}/approve")
    assert again.status_code == 409
    assert again.json() == {"error": "Triage item is already approved"}


def test_reject_cancels_the_run(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = escalate(client)
    item_id = client.get(f"/v1/runs/{run_id}").json()["triage_item"]["id"]
    response = client.post(
        f"/v1/triage/{item_id}/reject", json={"reason": "Amount exceeds approved budget"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "rejected"
    run = client.get(f"/v1/runs/{run_id}").json()["run"]
    assert run["status"] == "cancelled"
    assert client.post(f"/v1/triage/{item_id}/approve").status_code == 409


def test_approve_without_a_body(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = escalate(client)
    item_id = client.get(f"/v1/runs/{run_id}").json()["triage_item"]["id"]
    assert client.post(f"/v1/triage/{item_id}/approve").status_code == 200


def test_another_orgs_triage_item_is_404(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    other = live_server.client(live_server.new_key())
    run_id = escalate(client)
    item_id = client.get(f"/v1/runs/{run_id}").json()["triage_item"]["id"]
    assert other.get("/v1/triage").json()["total"] == 0
    response = other.post(f"/v1/triage/{item_id}/approve")
    assert response.status_code == 404
    assert response.json() == {"error": "Triage item not found"}


def test_duplicate_invoice_goes_to_triage_naming_the_first_run(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    first = escalate(client, amount=100, invoice="INV-2001")
    assert client.get(f"/v1/runs/{first}").json()["run"]["status"] == "completed"
    second = escalate(client, amount=100, invoice="INV-2001")
    detail = client.get(f"/v1/runs/{second}").json()
    assert detail["run"]["status"] == "awaiting_triage"
    assert "Duplicate invoice INV-2001" in detail["triage_item"]["triage_reason"]
    assert first in detail["triage_item"]["triage_reason"]
    checks = {c["check"]: c["outcome"] for c in detail["run"]["output"]["checks"]}
    assert checks["duplicate_invoice"] == "fail" and checks["amount_threshold"] == "pass"


def test_missing_amount_goes_to_triage(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post(
        "/v1/run", json={"agent_type": "ap_specialist", "task": "Process invoice INV-1001"}
    )
    detail = finished(client, response.json()["run_id"])
    assert detail["run"]["status"] == "awaiting_triage"
    assert detail["triage_item"]["triage_reason"] == "Missing invoice amount"
    assert detail["run"]["output"]["approved"] is False


def test_pending_items_expire_with_the_orgs_default_action(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    settings = {"triage_expiry_hours": 0.0005, "triage_expiry_action": "approve"}
    assert client.put("/v1/agents/ap_specialist/settings", json=settings).status_code == 200
    run_id = escalate(client)
    item_id = client.get(f"/v1/runs/{run_id}").json()["triage_item"]["id"]

    def expired() -> dict | None:
        body = client.get(f"/v1/runs/{run_id}").json()
        return body if body["run"]["status"] == "completed" else None

    body = wait_for(expired, timeout=30, interval=0.5)
    assert body["triage_item"]["id"] == item_id
    assert body["triage_item"]["status"] == "approved"
    assert (
        "Expired after 0.0005 h; default action: approve" in body["triage_item"]["resolution_note"]
    )
    assert client.get("/v1/triage").json()["total"] == 0
    bad = client.put("/v1/agents/ap_specialist/settings", json={"triage_expiry_action": "shrug"})
    assert bad.status_code == 400
    assert "triage_expiry_action" in bad.json()["error"]
