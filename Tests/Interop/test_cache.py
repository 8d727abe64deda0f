"""Cache hits through the official SDKs: a gateway with `cache_ttl` answers the second identical request from its cache
(`cf-aig-cache-status: HIT`) with the content of the first, streamed and not, as the SDKs parse it."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

import scenarios
from conftest import Gateway, anthropic_client, openai_client

CACHED_GATEWAY = "cached-interop"


@pytest.fixture(scope="module")
def cached(gateway: Gateway) -> Gateway:
    request = urllib.request.Request(
        f"{gateway.url}/api/v1/accounts/default/gateways",
        data=json.dumps({"id": CACHED_GATEWAY, "cache_ttl": 3600}).encode(),
        headers={"Authorization": f"Bearer {gateway.token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
    return gateway


def openai_chat(client: Any, stream: bool) -> tuple[str | None, Any]:
    if not stream:
        raw = client.chat.completions.with_raw_response.create(
            model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES
        )
        completion = raw.parse()
        return raw.headers.get("cf-aig-cache-status"), (
            completion.id,
            completion.choices[0].message.content,
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens,
        )
    with client.chat.completions.with_streaming_response.create(
        model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES, stream=True
    ) as response:
        status = response.headers.get("cf-aig-cache-status")
        chunks = list(response.parse())
    # No usage-only chunk reaches the SDK, live or replayed (the gateway asked for it upstream).
    assert all(chunk.choices for chunk in chunks)
    return status, (
        [chunk.id for chunk in chunks],
        "".join(chunk.choices[0].delta.content or "" for chunk in chunks),
        chunks[-1].choices[0].finish_reason,
    )


def anthropic_messages(client: Any, stream: bool) -> tuple[str | None, Any]:
    if not stream:
        raw = client.messages.with_raw_response.create(
            model=scenarios.ANTHROPIC_MODEL, max_tokens=64, messages=scenarios.ANTHROPIC_MESSAGES
        )
        message = raw.parse()
        return raw.headers.get("cf-aig-cache-status"), (
            message.id,
            "".join(block.text for block in message.content if block.type == "text"),
            message.usage.input_tokens,
            message.usage.output_tokens,
        )
    with client.messages.with_streaming_response.create(
        model=scenarios.ANTHROPIC_MODEL, max_tokens=64, messages=scenarios.ANTHROPIC_MESSAGES, stream=True
    ) as response:
        status = response.headers.get("cf-aig-cache-status")
        events = list(response.parse())
    text = "".join(
        event.delta.text for event in events if event.type == "content_block_delta" and event.delta.type == "text_delta"
    )
    return status, ([event.type for event in events], text)


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "chat-stream"])
def test_openai_cache_hit_gives_the_same_content(stream: bool, cached: Gateway, mock_openai: Any) -> None:
    client = openai_client(cached.provider_url("openai", gateway=CACHED_GATEWAY))
    first_status, first = openai_chat(client, stream)
    second_status, second = openai_chat(client, stream)
    assert first_status == "MISS"
    assert second_status == "HIT"
    assert second == first, "the stored response, ids included"
    _, direct = openai_chat(mock_openai, stream)
    assert second[1] == direct[1], "the content the provider gives"


@pytest.mark.parametrize("stream", [False, True], ids=["messages", "messages-stream"])
def test_anthropic_cache_hit_gives_the_same_content(stream: bool, cached: Gateway, mock_anthropic: Any) -> None:
    client = anthropic_client(cached.provider_url("anthropic", gateway=CACHED_GATEWAY))
    first_status, first = anthropic_messages(client, stream)
    second_status, second = anthropic_messages(client, stream)
    assert first_status == "MISS"
    assert second_status == "HIT"
    assert second == first
    _, direct = anthropic_messages(mock_anthropic, stream)
    assert second[1] == direct[1]
