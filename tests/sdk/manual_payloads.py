"""Response bodies copied from the developer manual (rest-api.txt, batches.txt)."""

from __future__ import annotations

from typing import Any

RUN_ID = "a1b2c3d4-0000-4000-8000-000000000000"
TRIAGE_ID = "t1r2i3a4-0000-4000-8000-000000000000"
WEBHOOK_ID = "f1e2d3c4-0000-4000-8000-000000000000"
BATCH_ID = "b1a2t3c4-0000-4000-8000-000000000000"

HEALTH = {"status": "ok", "version": "1.0.0", "timestamp": "2026-06-06T09:00:00.000Z"}
RUN_ACCEPTED = {
    "run_id": RUN_ID,
    "status": "queued",
    "agent_type": "procurement_specialist",
    "estimated_completion": "async",
}
RUN_SUMMARY = {
    "id": RUN_ID,
    "agent_type": "procurement_specialist",
    "status": "completed",
    "priority": "normal",
    "created_at": "2026-06-06T09:00:00.000Z",
    "started_at": "2026-06-06T09:00:01.000Z",
    "completed_at": "2026-06-06T09:00:42.000Z",
    "confidence_score": 0.94,
    "requires_triage": False,
    "error_message": None,
}
RUN_LIST = {"data": [RUN_SUMMARY], "total": 1, "limit": 20, "offset": 0}
RUN_WITH_TRIAGE = {
    "run": {
        "id": RUN_ID,
        "agent_type": "procurement_specialist",
        "status": "completed",
        "output": {"vendors": ["Dell", "HP", "Lenovo"], "recommended": "Dell"},
        "confidence_score": 0.94,
        "requires_triage": False,
    },
    "triage_item": None,
}
TRIAGE_LIST = {
    "data": [
        {
            "id": TRIAGE_ID,
            "run_id": RUN_ID,
            "status": "pending",
            "triage_reason": "Amount above auto-approval threshold",
            "created_at": "2026-06-06T09:00:42.000Z",
            "agent_runs": {"id": RUN_ID, "agent_type": "ap_specialist", "confidence_score": 0.71},
        }
    ],
    "total": 1,
    "limit": 20,
    "offset": 0,
}
RESOLUTION = {
    "data": {"id": TRIAGE_ID, "status": "approved", "resolved_at": "2026-06-06T09:05:00.000Z"}
}
WEBHOOK_CREATED = {
    "data": {
        "id": WEBHOOK_ID,
        "url": "https://your-app.com/webhooks/eclips",
        "events": ["run.completed", "run.failed", "run.triage_required"],
        "is_active": True,
        "secret": "whsec_2f4a",
        "created_at": "2026-06-06T09:00:00.000Z",
    }
}
JOB_CREATED = {
    "job": {
        "id": BATCH_ID,
        "name": "June invoices",
        "agent_type": "ap_specialist",
        "status": "pending",
        "total_rows": 2,
        "completed_rows": 0,
        "failed_rows": 0,
        "created_at": "2026-06-06T09:00:00.000Z",
    }
}
BATCH_DETAIL: dict[str, Any] = {
    "job": {
        "id": BATCH_ID,
        "status": "running",
        "total_rows": 2,
        "completed_rows": 1,
        "failed_rows": 0,
    },
    "rows": [
        {
            "id": "r0",
            "row_index": 0,
            "task": "Process invoice INV-1001",
            "status": "completed",
            "result": {"approved": True},
            "error_message": None,
        },
        {
            "id": "r1",
            "row_index": 1,
            "task": "Process invoice INV-1002",
            "status": "running",
            "result": None,
            "error_message": None,
        },
    ],
}
BATCH_LIST = {
    "jobs": [
        {
            "id": BATCH_ID,
            "name": "June invoices",
            "status": "running",
            "total_rows": 2,
            "completed_rows": 1,
            "failed_rows": 0,
        }
    ]
}
USAGE = {
    "plan": "team",
    "scope": "organization",
    "period": "2026-06",
    "included_credits": 50000,
    "topup_credits": 0,
    "credits_used": 12480,
    "credits_remaining": 37520,
    "unlimited": False,
    "topup_price_per_1000_usd": 5,
}
