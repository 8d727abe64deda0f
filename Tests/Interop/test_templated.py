"""SDKs on the templated providers through `tollgate serve` (in front of the mock): the path names the host.

- Azure OpenAI the way Cloudflare's Azure page configures the OpenAI SDK: base URL `…/azure-openai/{resource}/
  {deployment}`, `api-version` as a default query parameter, the key in `api-key`.
- Claude on Vertex AI with the Anthropic SDK's `AnthropicVertex` client, its base URL at
  `…/google-vertex-ai/v1`: the SDK moves the model into the path (`…/models/{model}:rawPredict`).
- Gemini on Vertex AI with the `google-genai` SDK (`vertexai=True`), its base URL at `…/google-vertex-ai/` and API
  version `v1`, as its requests name project, location and model in the path.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import anthropic
import openai
import pytest

import support

from conftest import SDK_TIMEOUT_S, Gateway
from test_gateway import find_log

AZURE_MODEL = "gpt-4o-mini-2024-07-18"
MESSAGES = [{"role": "user", "content": "Say hello to the gateway"}]


def wait_for_record(gateway: Gateway, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Polls the logs list until a record matches (logs are readable within 1 s)."""
    deadline = time.monotonic() + 3.0
    while True:
        status, body = support.get_json(f"{gateway.url}/api/v1/accounts/default/logs?limit=1000", gateway.token)
        found = body.get("logs", []) if status == 200 else []
        for record in found:
            if matches(record):
                return record
        if time.monotonic() >= deadline:
            raise AssertionError(f"no matching log within 3 s; last answer: {status} {body}")
        time.sleep(0.1)


def azure_client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.provider_url("azure-openai") + "/my-resource/chat-prod",
        api_key="azure-test-key",
        default_query={"api-version": "2024-10-21"},
        # The mock answers for the model this deployment serves.
        default_headers={"api-key": "azure-test-key", "x-mock-model": AZURE_MODEL},
        max_retries=0,
        timeout=SDK_TIMEOUT_S,
    )


def test_azure_chat_through_gateway_logs_the_deployments_model(gateway: Gateway) -> None:
    client = azure_client(gateway)
    response = client.chat.completions.with_raw_response.create(model="chat-prod", messages=MESSAGES)
    completion = response.parse()
    assert completion.model == AZURE_MODEL
    record = find_log(gateway, response.headers["cf-aig-log-id"])
    assert record["provider"] == "azure-openai"
    assert record["model"] == AZURE_MODEL
    assert record["path"].startswith("/my-resource/chat-prod/chat/completions?api-version=2024-10-21")
    assert record["tokens_in"] == completion.usage.prompt_tokens
    assert record["tokens_out"] == completion.usage.completion_tokens
    assert record["stream"] is False


def test_azure_chat_stream_with_usage_through_gateway(gateway: Gateway) -> None:
    client = azure_client(gateway)
    with client.chat.completions.with_streaming_response.create(
        model="chat-prod", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        log_id = response.headers["cf-aig-log-id"]
        chunks = list(response.parse())
    usage = chunks[-1].usage
    assert usage is not None
    record = find_log(gateway, log_id)
    assert record["model"] == AZURE_MODEL
    assert record["stream"] is True
    assert (record["tokens_in"], record["tokens_out"]) == (usage.prompt_tokens, usage.completion_tokens)


@pytest.mark.parametrize("stream", [False, True], ids=["raw-predict", "stream-raw-predict"])
def test_claude_on_vertex_through_gateway(stream: bool, gateway: Gateway) -> None:
    client = anthropic.AnthropicVertex(
        region="us-east5",
        project_id="acme-ai",
        access_token="ya29.interop-test-token",
        base_url=gateway.provider_url("google-vertex-ai") + "/v1",
        max_retries=0,
        timeout=SDK_TIMEOUT_S,
    )
    model = "claude-3-5-haiku@20241022"
    if stream:
        with client.messages.with_streaming_response.create(
            model=model, max_tokens=64, messages=MESSAGES, stream=True
        ) as response:
            log_id = response.headers["cf-aig-log-id"]
            events = list(response.parse())
        assert events[-1].type == "message_stop"
        tokens_out = next(e.usage.output_tokens for e in reversed(events) if e.type == "message_delta")
        tokens_in = events[0].message.usage.input_tokens
    else:
        response = client.messages.with_raw_response.create(model=model, max_tokens=64, messages=MESSAGES)
        log_id = response.headers["cf-aig-log-id"]
        message = response.parse()
        tokens_in, tokens_out = message.usage.input_tokens, message.usage.output_tokens
    record = find_log(gateway, log_id)
    assert record["provider"] == "google-vertex-ai"
    assert record["model"] == model, "the SDK put the model in the path, not the body"
    assert record["path"].endswith(f"/publishers/anthropic/models/{model}:" + ("streamRawPredict" if stream else "rawPredict"))
    assert record["stream"] is stream
    assert (record["tokens_in"], record["tokens_out"]) == (tokens_in, tokens_out)


@pytest.mark.parametrize("stream", [False, True], ids=["generate-content", "stream-generate-content"])
def test_gemini_on_vertex_with_google_genai_through_gateway(stream: bool, gateway: Gateway) -> None:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    client = genai.Client(
        vertexai=True,
        project="acme-ai",
        location="us-central1",
        credentials=Credentials(token="ya29.interop-test-token"),
        http_options=types.HttpOptions(
            base_url=gateway.provider_url("google-vertex-ai") + "/",
            api_version="v1",
            headers={"x-mock-usage": "reasoning=3"},
        ),
    )
    model = "gemini-2.5-flash"
    if stream:
        chunks = list(client.models.generate_content_stream(model=model, contents="Explain how AI works"))
        text = "".join(chunk.text or "" for chunk in chunks)
        usage = chunks[-1].usage_metadata
    else:
        response = client.models.generate_content(model=model, contents="Explain how AI works")
        text = response.text
        usage = response.usage_metadata
    assert text
    record = wait_for_record(
        gateway, lambda r: r["provider"] == "google-vertex-ai" and r["model"] == model and r["stream"] is stream
    )
    assert record["path"].startswith(
        f"/v1/projects/acme-ai/locations/us-central1/publishers/google/models/{model}:"
        + ("streamGenerateContent" if stream else "generateContent")
    )
    assert record["tokens_in"] == usage.prompt_token_count
    assert record["reasoning_tokens"] == usage.thoughts_token_count == 3
    assert record["tokens_out"] == usage.candidates_token_count + usage.thoughts_token_count
