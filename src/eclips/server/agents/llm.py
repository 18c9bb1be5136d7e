"""The language model the built-in agents use, behind any OpenAI-compatible endpoint.

OpenAI, vLLM, Ollama, llama.cpp's server and most hosted gateways speak the same
chat-completions API; :class:`OpenAICompatibleModel` talks to them through the ``openai``
client. The model only reads free text (fields of an invoice, the item of a purchase) and
routes tasks; every policy check stays in the agents' code. Whatever goes wrong on the
model's side (it is down, slow, refuses, or answers something unusable) becomes an
:class:`AgentError` with a message a person can act on, so the run fails clearly.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any, Literal

import openai
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageParam,
    completion_create_params,
)
from pydantic import ValidationError

from eclips.server.agents.base import AgentError, LanguageModel, ModelT

if TYPE_CHECKING:
    from eclips.server.settings import Settings

__all__ = ["OpenAICompatibleModel", "first_json_object", "model_from_settings"]

log = logging.getLogger(__name__)

# How the answer's shape is asked for. Not every server knows ``json_schema`` (older vLLM
# and llama.cpp builds, some gateways) or even ``json_object``; on a 400 the model steps
# down to the next way and keeps it, and the answer is parsed tolerantly in every case.
AnswerFormat = Literal["json_schema", "json_object", "text"]
_FORMATS: tuple[AnswerFormat, ...] = ("json_schema", "json_object", "text")
# Reasoning models may think aloud before answering; braces in there are not the answer.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_PREVIEW = 200


def first_json_object(content: str) -> dict[str, Any] | None:
    """The first JSON object in ``content``, wherever it starts (fences, prose around it)."""
    content = _THINKING.sub("", content)
    decoder = json.JSONDecoder()
    start = content.find("{")
    while start != -1:
        try:
            value, _end = decoder.raw_decode(content, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(value, dict):
                return value
        start = content.find("{", start + 1)
    return None


class OpenAICompatibleModel:
    """A chat model at ``base_url`` (e.g. ``http://localhost:11434/v1``) named ``model``."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout = timeout
        # Local servers need no key, but the client insists on one.
        self._client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )
        self.answer_format: AnswerFormat = "json_schema"

    async def aclose(self) -> None:
        """Close the HTTP connections (the worker's model lives as long as its process)."""
        await self._client.close()

    async def extract(self, *, instructions: str, text: str, schema: type[ModelT]) -> ModelT:
        """Fill ``schema`` from free ``text``; raises AgentError on an unusable answer."""
        json_schema = schema.model_json_schema()
        system = (
            f"{instructions}\n"
            "Answer with one JSON object and nothing else. Use null for anything the text "
            "does not say; never guess. The object must match this JSON schema:\n"
            f"{json.dumps(json_schema)}"
        )
        content = await self._complete(system, text, name=schema.__name__, schema=json_schema)
        data = first_json_object(content)
        if data is None:
            raise AgentError(f"The language model's answer has no JSON object: {_preview(content)}")
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or schema.__name__
            raise AgentError(
                f"The language model's answer does not fit {schema.__name__}: "
                f"{where}: {first['msg']}"
            ) from exc

    async def classify(self, *, text: str, labels: dict[str, str]) -> str | None:
        """Pick one key of ``labels`` (label -> description) for ``text``, or None."""
        options = "\n".join(f"- {label}: {meaning}" for label, meaning in labels.items())
        system = (
            "Route the task to the one label below whose description fits it.\n"
            f"{options}\n"
            'Answer with one JSON object and nothing else: {"label": "<label>"}, or '
            '{"label": null} when no label fits. Do not pick a label that does not fit.'
        )
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {"label": {"enum": [*labels, None]}},
            "required": ["label"],
            "additionalProperties": False,
        }
        content = await self._complete(system, text, name="route", schema=schema)
        by_folded = {label.casefold(): label for label in labels}
        data = first_json_object(content)
        if data is not None and "label" in data:
            if data["label"] is None:
                return None
            # A label that is not among the options means none of them fits.
            return by_folded.get(str(data["label"]).strip().casefold())
        # Small models sometimes answer with the bare label.
        bare = _THINKING.sub("", content).strip().strip("\"'`.").strip().casefold()
        if bare in by_folded:
            return by_folded[bare]
        if bare in {"none", "null"}:
            return None
        raise AgentError(f"The language model answered with no label: {_preview(content)}")

    async def _complete(self, system: str, text: str, *, name: str, schema: dict[str, Any]) -> str:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": text},
        ]
        while True:
            answer_format = self.answer_format
            try:
                response_format = _response_format(answer_format, name, schema)
                if response_format is None:
                    response = await self._client.chat.completions.create(
                        model=self.model, messages=messages, temperature=0
                    )
                else:
                    response = await self._client.chat.completions.create(
                        model=self.model,
                        messages=messages,
                        temperature=0,
                        response_format=response_format,
                    )
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                following = _FORMATS.index(answer_format) + 1
                if following == len(_FORMATS):
                    raise AgentError(
                        f"The language model refused the request "
                        f"(HTTP {exc.status_code}): {_error_text(exc)}"
                    ) from exc
                log.info(
                    "%s refused response_format %s (%s); trying %s",
                    self.base_url,
                    answer_format,
                    _error_text(exc),
                    _FORMATS[following],
                )
                self.answer_format = _FORMATS[following]
                continue
            except openai.APITimeoutError as exc:
                raise AgentError(
                    f"The language model at {self.base_url} did not answer within "
                    f"{self.timeout:g} s"
                ) from exc
            except openai.APIConnectionError as exc:
                raise AgentError(
                    f"Could not reach the language model at {self.base_url}: {exc.__cause__ or exc}"
                ) from exc
            except openai.APIStatusError as exc:
                raise AgentError(
                    f"The language model answered HTTP {exc.status_code}: {_error_text(exc)}"
                ) from exc
            except openai.APIError as exc:
                raise AgentError(f"The language model's response is unreadable: {exc}") from exc
            # A body that is not JSON (an HTML error page from a proxy) comes back as a str.
            if not isinstance(response, ChatCompletion):
                raise AgentError(
                    f"The language model's response is not a chat completion: "
                    f"{_preview(str(response))}"
                )
            if not response.choices:
                raise AgentError("The language model answered with no choices")
            content = response.choices[0].message.content
            if not content or not content.strip():
                raise AgentError("The language model answered with empty content")
            return content


def _response_format(
    answer_format: AnswerFormat, name: str, schema: dict[str, Any]
) -> completion_create_params.ResponseFormat | None:
    if answer_format == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False},
        }
    if answer_format == "json_object":
        return {"type": "json_object"}
    return None  # leave the field out: some servers refuse any response_format


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body
        if isinstance(message, dict):
            message = message.get("message", message)
        return _preview(str(message))
    return _preview(exc.message)


def _preview(content: str) -> str:
    flat = " ".join(content.split())
    return repr(flat if len(flat) <= _PREVIEW else flat[:_PREVIEW] + "…")


def model_from_settings(settings: Settings) -> LanguageModel | None:
    """The configured model, or None unless ECLIPS_LLM_BASE_URL and ECLIPS_LLM_MODEL are set."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    return OpenAICompatibleModel(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout_seconds,
    )
