"""EClips: run AI agents behind a REST API. This package's surface is the Python SDK.

from eclips import EClipsClient

client = EClipsClient()  # reads ECLIPS_API_KEY and ECLIPS_BASE_URL
run = client.run("Get 3 vendor quotes for 500 laptops", agent_type="procurement_specialist")
print(client.wait_for_run(run.run_id).status)
"""

from eclips import webhooks
from eclips.sdk import (
    DEFAULT_BASE_URL,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncEClipsClient,
    AsyncPage,
    AsyncStream,
    AuthenticationError,
    BadRequestError,
    BatchDetail,
    BatchJob,
    BatchRow,
    BatchRowParam,
    BatchStatus,
    ConflictError,
    EClipsClient,
    EClipsError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    Run,
    RunEvent,
    RunStatus,
    Stream,
    SyncPage,
    UnprocessableEntityError,
    WaitTimeoutError,
    __version__,
)
from eclips.webhooks import WebhookVerificationError

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncEClipsClient",
    "AsyncPage",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BatchDetail",
    "BatchJob",
    "BatchRow",
    "BatchRowParam",
    "BatchStatus",
    "ConflictError",
    "EClipsClient",
    "EClipsError",
    "InternalServerError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "Run",
    "RunEvent",
    "RunStatus",
    "Stream",
    "SyncPage",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]
