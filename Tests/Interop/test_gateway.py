"""The official SDKs through `tollgate serve` (in front of the mock): same content as direct, right log records."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

import anthropic
import openai
import pytest

import scenarios
import support
from conftest import Gateway

LOG_POLL_TIMEOUT_S = 3.0
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def find_log(gateway: Gateway, log_id: str) -> dict[str, Any]:
    """Polls the logs list until the record with `log_id` appears (logs are readable within 1 s)."""
    deadline = time.monotonic() + LOG_POLL_TIMEOUT_S
    last: tuple[int, dict] = (0, {})
    while True:
        last = support.get_json(f"{gateway.url}/api/v1/accounts/default/logs?limit=1000", gateway.token)
        status, body = last
        if status == 200:
            for record in body.get("logs", []):
                if record.get("id") == log_id:
                    return record
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    raise AssertionError(f"log {log_id} not listed within {LOG_POLL_TIMEOUT_S} s; last answer: {last}")


def check_record(gateway: Gateway, outcome: scenarios.Outcome, expected: scenarios.Outcome) -> dict[str, Any]:
    assert outcome.log_id is not None, "the gateway's response has no cf-aig-log-id header"
    assert UUID_RE.match(outcome.log_id), outcome.log_id
    record = find_log(gateway, outcome.log_id)
    assert record["account"] == "default"
    assert record["gateway"] == "default"
    assert record["provider"] == expected.provider
    assert record["model"] == expected.model
    assert record["method"] == "POST"
    assert record["status_code"] == 200
    assert record["success"] is True
    assert record["stream"] is expected.stream
    assert record["tokens_in"] == expected.tokens_in
    assert record["tokens_out"] == expected.tokens_out
    assert record["error"] in (None, "")
    assert record["request_size"] > 0
    assert record["response_size"] > 0
    assert record["duration_ms"] >= 0
    return record


Scenario = Callable[[Any], scenarios.Outcome]

OPENAI_SCENARIOS: dict[str, Scenario] = {
    "chat": scenarios.chat,
    "chat-stream": lambda client: scenarios.chat_stream(client, include_usage=None),
    "chat-stream-include-usage": lambda client: scenarios.chat_stream(client, include_usage=True),
    "responses": scenarios.responses,
    "responses-stream": scenarios.responses_stream,
}


@pytest.mark.parametrize("name", list(OPENAI_SCENARIOS))
def test_openai_through_gateway(
    name: str, mock_openai: openai.OpenAI, gateway_openai: openai.OpenAI, gateway: Gateway
) -> None:
    scenario = OPENAI_SCENARIOS[name]
    direct = scenario(mock_openai)
    through = scenario(gateway_openai)
    assert through.content == direct.content
    assert (through.tokens_in, through.tokens_out) == (direct.tokens_in, direct.tokens_out)
    expected = direct
    if name == "chat-stream":
        # The client did not ask for usage and sees none, but the gateway asked upstream: the log has the tokens.
        expected = scenarios.chat_stream(mock_openai, include_usage=True)
    record = check_record(gateway, through, expected)
    assert record["cached_tokens_in"] == 0
    assert record["reasoning_tokens"] == 0
    if direct.stream:
        assert record["ttft_ms"] is not None and record["ttft_ms"] <= record["duration_ms"]


def test_chat_stream_without_usage_is_priced_but_the_sdk_sees_no_usage_chunk(
    mock_openai: openai.OpenAI, gateway_openai: openai.OpenAI, gateway: Gateway
) -> None:
    with gateway_openai.chat.completions.with_streaming_response.create(
        model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES, stream=True
    ) as response:
        log_id = response.headers.get("cf-aig-log-id")
        chunks = list(response.parse())
    # Iterating works, every chunk has a choice (no usage-only chunk reached the SDK), the content is complete.
    assert chunks
    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    direct = scenarios.chat_stream(mock_openai, include_usage=None)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == direct.content
    assert len(chunks) == direct.extra["chunks"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    # The logs API shows the tokens the provider reported to the gateway.
    assert log_id is not None
    priced = scenarios.chat_stream(mock_openai, include_usage=True)
    record = find_log(gateway, log_id)
    assert record["stream"] is True
    assert record["tokens_in"] == priced.tokens_in
    assert record["tokens_out"] == priced.tokens_out
    assert record["tokens_in"] > 0 and record["tokens_out"] > 0
    # The stored request is what the SDK sent, without the option the gateway added.
    status, sent = support.get_json(f"{gateway.url}/api/v1/accounts/default/logs/{log_id}/request", gateway.token)
    assert status == 200
    assert sent["stream"] is True
    assert "stream_options" not in sent


def test_embeddings_through_gateway(
    mock_openai: openai.OpenAI, gateway_openai: openai.OpenAI, gateway: Gateway
) -> None:
    direct = scenarios.embeddings(mock_openai)
    through = scenarios.embeddings(gateway_openai)
    assert through.content == direct.content
    assert through.log_id is not None
    record = find_log(gateway, through.log_id)
    assert record["provider"] == "openai"
    assert record["model"] == scenarios.EMBEDDING_MODEL
    assert record["stream"] is False
    assert record["tokens_in"] == direct.tokens_in
    assert record["tokens_out"] in (0, None)


@pytest.mark.parametrize("stream", [False, True], ids=["messages", "messages-stream"])
def test_anthropic_through_gateway(
    stream: bool, mock_anthropic: anthropic.Anthropic, gateway_anthropic: anthropic.Anthropic, gateway: Gateway
) -> None:
    scenario = scenarios.messages_stream if stream else scenarios.messages
    direct = scenario(mock_anthropic)
    through = scenario(gateway_anthropic)
    assert through.content == direct.content
    assert (through.tokens_in, through.tokens_out) == (direct.tokens_in, direct.tokens_out)
    record = check_record(gateway, through, direct)
    assert record["cached_tokens_in"] == 0
    assert record["cache_write_tokens"] == 0


def test_cached_and_reasoning_tokens_are_recorded(
    gateway_openai: openai.OpenAI, gateway_anthropic: anthropic.Anthropic, gateway: Gateway
) -> None:
    chat = scenarios.chat(gateway_openai, headers={"x-mock-usage": "cached=4,reasoning=3"})
    record = check_record(gateway, chat, chat)
    assert record["cached_tokens_in"] == 4
    assert record["reasoning_tokens"] == 3
    message = scenarios.messages(gateway_anthropic, headers={"x-mock-usage": "cached=2,cache-write=3"})
    record = check_record(gateway, message, message)
    assert record["tokens_in"] == message.tokens_in
    assert record["cached_tokens_in"] == 2
    assert record["cache_write_tokens"] == 3


def test_cut_stream_is_logged_as_failure(gateway_openai: openai.OpenAI, gateway: Gateway) -> None:
    with gateway_openai.chat.completions.with_streaming_response.create(
        model=scenarios.CHAT_MODEL,
        messages=scenarios.CHAT_MESSAGES,
        stream=True,
        extra_headers={"x-mock-fault": "cut-stream-after=3"},
    ) as response:
        log_id = response.headers.get("cf-aig-log-id")
        with pytest.raises(Exception):
            for _ in response.parse():
                pass
    assert log_id is not None
    record = find_log(gateway, log_id)
    assert record["stream"] is True
    assert record["success"] is False
    assert record["error"]


def test_logs_api_requires_the_admin_token(gateway: Gateway) -> None:
    status, body = support.get_json(f"{gateway.url}/api/v1/accounts/default/logs", "wrong-token")
    assert status == 401
    assert "error" in body
