"""SDKs on the templated providers through `tollgate serve` (in front of the mock): the path names the host.

- Azure OpenAI the way Cloudflare's Azure page configures the OpenAI SDK: base URL `…/azure-openai/{resource}/
  {deployment}`, `api-version` as a default query parameter, the key in `api-key`.
- Claude on Vertex AI with the Anthropic SDK's `AnthropicVertex` client, its base URL at
  `…/google-vertex-ai/v1`: the SDK moves the model into the path (`…/models/{model}:rawPredict`).
"""

from __future__ import annotations

import anthropic
import openai
import pytest

from conftest import SDK_TIMEOUT_S, Gateway
from test_gateway import find_log

AZURE_MODEL = "gpt-4o-mini-2024-07-18"
MESSAGES = [{"role": "user", "content": "Say hello to the gateway"}]


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
