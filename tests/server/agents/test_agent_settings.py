"""Per-org agent settings over HTTP: listing, reading, replacing, and refusing bad values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import LiveServer


def test_agents_are_listed_with_their_settings_schema(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.get("/v1/agents")
    assert response.status_code == 200
    agents = {a["agent_type"]: a for a in response.json()["data"]}
    assert {"center", "ap_specialist", "procurement_specialist"} <= set(agents)
    ap = agents["ap_specialist"]
    assert ap["credits_per_run"] == 2 and ap["description"]
    assert {
        "confidence_threshold",
        "auto_approval_threshold",
        "approved_vendors",
        "currency",
    } <= set(ap["settings_schema"]["properties"])
    procurement = agents["procurement_specialist"]["settings_schema"]
    assert {"catalogue", "budget_limit", "weights"} <= set(procurement["properties"])
    vendor = procurement["$defs"]["Vendor"]["properties"]
    assert {"name", "categories", "items", "lead_time_days", "rating"} <= set(vendor)


def test_defaults_until_set(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.get("/v1/agents/ap_specialist/settings")
    assert response.status_code == 200
    body = response.json()
    assert body["agent_type"] == "ap_specialist"
    assert (
        body["settings"]
        | {
            "confidence_threshold": 0.6,
            "auto_approval_threshold": 10000,
            "approved_vendors": [],
            "currency": "USD",
        }
        == body["settings"]
    )
    procurement = client.get("/v1/agents/procurement_specialist/settings").json()["settings"]
    assert procurement["budget_limit"] == 500000
    assert procurement["weights"] == {"price": 0.6, "lead_time": 0.2, "rating": 0.2}
    assert "Dell" in [v["name"] for v in procurement["catalogue"]]


def test_put_replaces_and_get_reads_back(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    first = {"auto_approval_threshold": 2500, "approved_vendors": ["Acme"], "currency": "EUR"}
    response = client.put("/v1/agents/ap_specialist/settings", json=first)
    assert response.status_code == 200
    stored = response.json()["settings"]
    assert {k: stored[k] for k in first} == first
    assert client.get("/v1/agents/ap_specialist/settings").json()["settings"] == stored

    # PUT replaces the whole document: what it leaves out goes back to the default.
    client.put("/v1/agents/ap_specialist/settings", json={"approved_vendors": ["Initech"]})
    again = client.get("/v1/agents/ap_specialist/settings").json()["settings"]
    assert again["approved_vendors"] == ["Initech"]
    assert again["auto_approval_threshold"] == 10000 and again["currency"] == "USD"


def test_settings_belong_to_one_org(live_server: LiveServer) -> None:
    mine = live_server.client(live_server.new_key())
    theirs = live_server.client(live_server.new_key())
    mine.put("/v1/agents/procurement_specialist/settings", json={"budget_limit": 10})
    assert (
        theirs.get("/v1/agents/procurement_specialist/settings").json()["settings"]["budget_limit"]
        == 500000
    )


@pytest.mark.parametrize(
    ("agent_type", "settings", "field"),
    [
        ("ap_specialist", {"auto_approval_threshold": -1}, "auto_approval_threshold"),
        ("ap_specialist", {"auto_approval_threshold": "lots"}, "auto_approval_threshold"),
        ("ap_specialist", {"approved_vendors": "Acme"}, "approved_vendors"),
        ("ap_specialist", {"currency": "euro"}, "currency"),
        ("ap_specialist", {"confidence_threshold": 1.5}, "confidence_threshold"),
        ("ap_specialist", {"auto_approve": True}, "auto_approve"),
        ("procurement_specialist", {"budget_limit": -5}, "budget_limit"),
        ("procurement_specialist", {"weights": {"price": -1}}, "weights.price"),
        (
            "procurement_specialist",
            {"weights": {"price": 0, "lead_time": 0, "rating": 0}},
            "weights",
        ),
        (
            "procurement_specialist",
            {"catalogue": [{"name": "X", "items": [], "lead_time_days": -1, "rating": 4}]},
            "catalogue.0.lead_time_days",
        ),
        (
            "procurement_specialist",
            {
                "catalogue": [
                    {
                        "name": "X",
                        "items": [{"item": "widget", "unit_price": 0}],
                        "lead_time_days": 1,
                        "rating": 4,
                    }
                ]
            },
            "catalogue.0.items.0.unit_price",
        ),
        ("center", {"confidence_threshold": -0.1}, "confidence_threshold"),
    ],
)
def test_a_bad_value_is_400_naming_the_field(
    live_server: LiveServer, agent_type: str, settings: dict[str, Any], field: str
) -> None:
    client = live_server.client(live_server.new_key())
    before = client.get(f"/v1/agents/{agent_type}/settings").json()
    response = client.put(f"/v1/agents/{agent_type}/settings", json=settings)
    assert response.status_code == 400
    assert f"settings.{field}:" in response.json()["error"]
    assert client.get(f"/v1/agents/{agent_type}/settings").json() == before


def test_settings_that_are_not_an_object_are_400(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.put("/v1/agents/ap_specialist/settings", json=[1, 2])
    assert response.status_code == 400


def test_an_unknown_agent_type_is_404(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.get("/v1/agents/payroll/settings")
    assert response.status_code == 404
    assert response.json() == {"error": "Unknown agent_type: payroll"}
    assert client.put("/v1/agents/payroll/settings", json={}).status_code == 404
