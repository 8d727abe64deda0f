"""The official Cohere SDK (v2 chat, plain and streamed) against the mock provider and through `tollgate serve`."""

from __future__ import annotations

import time
from typing import Any

import cohere
import pytest

import support
from conftest import SDK_TIMEOUT_S, Gateway, Mock, serve_gateway

MODEL = "command-a-03-2025"
MESSAGES = [{"role": "user", "content": "Say hello to everyone reading these logs"}]


@pytest.fixture(scope="module")
def cohere_gateway(mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    yield from serve_gateway("cohere-gateway", [f"cohere={mock.url}"], tmp_path_factory)


def client(base_url: str) -> cohere.ClientV2:
    return cohere.ClientV2(api_key="co-test-interop", base_url=base_url, timeout=SDK_TIMEOUT_S)


def chat(co: cohere.ClientV2) -> tuple[str, int, int]:
    response = co.chat(model=MODEL, messages=MESSAGES)
    billed = response.usage.billed_units
    return response.message.content[0].text, int(billed.input_tokens), int(billed.output_tokens)


def chat_stream(co: cohere.ClientV2) -> tuple[str, int, int, list[str]]:
    text, types, usage = "", [], None
    for event in co.chat_stream(model=MODEL, messages=MESSAGES):
        types.append(event.type)
        if event.type == "content-delta":
            text += event.delta.message.content.text
        elif event.type == "message-end":
            usage = event.delta.usage.billed_units
    assert usage is not None, f"no message-end usage in {types}"
    return text, int(usage.input_tokens), int(usage.output_tokens), types


def cohere_logs(gateway: Gateway, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 3.0
    while True:
        status, body = support.get_json(
            f"{gateway.url}/api/v1/accounts/default/logs?limit=1000&order=asc", gateway.token
        )
        logs = [r for r in body.get("logs", []) if r.get("provider") == "cohere"] if status == 200 else []
        if len(logs) >= count or time.monotonic() >= deadline:
            return logs
        time.sleep(0.1)


def test_cohere_sdk_through_gateway_logs_billed_tokens(mock: Mock, cohere_gateway: Gateway) -> None:
    direct = client(mock.url)
    through = client(cohere_gateway.provider_url("cohere"))

    plain_direct, plain_through = chat(direct), chat(through)
    assert plain_through == plain_direct
    stream_direct, stream_through = chat_stream(direct), chat_stream(through)
    assert stream_through == stream_direct
    assert stream_through[3][0] == "message-start" and stream_through[3][-1] == "message-end"

    logs = cohere_logs(cohere_gateway, 2)
    assert len(logs) == 2, logs
    for record, stream, (_, tokens_in, tokens_out, *_) in zip(
        logs, [False, True], [plain_direct, stream_direct]
    ):
        assert record["model"] == MODEL
        assert record["path"] == "/v2/chat"
        assert record["stream"] is stream
        assert record["tokens_in"] == tokens_in
        assert record["tokens_out"] == tokens_out
        assert record["cost"] is None, "no Cohere price row: unpriced, not $0"
