"""One function per SDK call the interop tests make; each returns what the call saw.

The same scenario runs against the mock provider directly and through the gateway, so the two outcomes can be
compared field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai

CHAT_MODEL = "gpt-4o-mini"
RESPONSES_MODEL = "gpt-4.1-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
ANTHROPIC_MODEL = "claude-sonnet-4-6"

CHAT_MESSAGES = [
    {"role": "system", "content": "You answer for the Tollgate interop tests."},
    {"role": "user", "content": "Say hello to everyone reading these logs"},
]
ANTHROPIC_MESSAGES = [{"role": "user", "content": "Say hello to everyone reading these logs"}]


@dataclass
class Outcome:
    provider: str
    model: str
    stream: bool
    content: Any
    tokens_in: int | None
    tokens_out: int | None
    cached_tokens_in: int | None = 0
    cache_write_tokens: int | None = 0
    reasoning_tokens: int | None = 0
    log_id: str | None = None
    event_types: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def chat(client: openai.OpenAI, headers: dict[str, str] | None = None) -> Outcome:
    raw = client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=CHAT_MESSAGES, extra_headers=headers
    )
    completion = raw.parse()
    usage = completion.usage
    return Outcome(
        provider="openai",
        model=CHAT_MODEL,
        stream=False,
        content=completion.choices[0].message.content,
        tokens_in=usage.prompt_tokens,
        tokens_out=usage.completion_tokens,
        cached_tokens_in=usage.prompt_tokens_details.cached_tokens,
        reasoning_tokens=usage.completion_tokens_details.reasoning_tokens,
        log_id=raw.headers.get("cf-aig-log-id"),
        extra={"finish_reason": completion.choices[0].finish_reason, "response_model": completion.model},
    )


def chat_stream(client: openai.OpenAI, include_usage: bool | None) -> Outcome:
    options = {} if include_usage is None else {"stream_options": {"include_usage": include_usage}}
    parts: list[str] = []
    usage = None
    chunks = 0
    null_usage_chunks = 0
    finish_reason = None
    with client.chat.completions.with_streaming_response.create(
        model=CHAT_MODEL, messages=CHAT_MESSAGES, stream=True, **options
    ) as response:
        log_id = response.headers.get("cf-aig-log-id")
        for chunk in response.parse():
            chunks += 1
            if chunk.choices:
                choice = chunk.choices[0]
                parts.append(choice.delta.content or "")
                finish_reason = choice.finish_reason or finish_reason
            if chunk.usage is not None:
                usage = chunk.usage
            else:
                null_usage_chunks += 1
    return Outcome(
        provider="openai",
        model=CHAT_MODEL,
        stream=True,
        content="".join(parts),
        tokens_in=usage.prompt_tokens if usage else None,
        tokens_out=usage.completion_tokens if usage else None,
        cached_tokens_in=usage.prompt_tokens_details.cached_tokens if usage else None,
        reasoning_tokens=usage.completion_tokens_details.reasoning_tokens if usage else None,
        log_id=log_id,
        extra={"chunks": chunks, "null_usage_chunks": null_usage_chunks, "finish_reason": finish_reason},
    )


def responses(client: openai.OpenAI) -> Outcome:
    raw = client.responses.with_raw_response.create(
        model=RESPONSES_MODEL, instructions="Be brief.", input="Write one line about toll roads"
    )
    response = raw.parse()
    usage = response.usage
    return Outcome(
        provider="openai",
        model=RESPONSES_MODEL,
        stream=False,
        content=response.output_text,
        tokens_in=usage.input_tokens,
        tokens_out=usage.output_tokens,
        cached_tokens_in=usage.input_tokens_details.cached_tokens,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens,
        log_id=raw.headers.get("cf-aig-log-id"),
        extra={"status": response.status},
    )


def responses_stream(client: openai.OpenAI) -> Outcome:
    parts: list[str] = []
    types: list[str] = []
    completed = None
    with client.responses.with_streaming_response.create(
        model=RESPONSES_MODEL, instructions="Be brief.", input="Write one line about toll roads", stream=True
    ) as raw:
        log_id = raw.headers.get("cf-aig-log-id")
        for event in raw.parse():
            types.append(event.type)
            if event.type == "response.output_text.delta":
                parts.append(event.delta)
            elif event.type == "response.completed":
                completed = event.response
    usage = completed.usage if completed else None
    return Outcome(
        provider="openai",
        model=RESPONSES_MODEL,
        stream=True,
        content="".join(parts),
        tokens_in=usage.input_tokens if usage else None,
        tokens_out=usage.output_tokens if usage else None,
        cached_tokens_in=usage.input_tokens_details.cached_tokens if usage else None,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens if usage else None,
        log_id=log_id,
        event_types=types,
        extra={"completed_text": completed.output_text if completed else None},
    )


def embeddings(client: openai.OpenAI, encoding_format: str | None = None) -> Outcome:
    options = {} if encoding_format is None else {"encoding_format": encoding_format}
    raw = client.embeddings.with_raw_response.create(
        model=EMBEDDING_MODEL, input=["toll roads and gateways", "hello"], dimensions=64, **options
    )
    result = raw.parse()
    return Outcome(
        provider="openai",
        model=EMBEDDING_MODEL,
        stream=False,
        content=[item.embedding for item in result.data],
        tokens_in=result.usage.prompt_tokens,
        tokens_out=None,
        log_id=raw.headers.get("cf-aig-log-id"),
    )


def _anthropic_tokens_in(usage: Any) -> int:
    return usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)


def messages(client: anthropic.Anthropic, headers: dict[str, str] | None = None) -> Outcome:
    raw = client.messages.with_raw_response.create(
        model=ANTHROPIC_MODEL, max_tokens=256, system="You are terse.", messages=ANTHROPIC_MESSAGES,
        extra_headers=headers,
    )
    message = raw.parse()
    usage = message.usage
    return Outcome(
        provider="anthropic",
        model=ANTHROPIC_MODEL,
        stream=False,
        content="".join(block.text for block in message.content if block.type == "text"),
        tokens_in=_anthropic_tokens_in(usage),
        tokens_out=usage.output_tokens,
        cached_tokens_in=usage.cache_read_input_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
        reasoning_tokens=None,
        log_id=raw.headers.get("cf-aig-log-id"),
        extra={"stop_reason": message.stop_reason},
    )


def messages_stream(client: anthropic.Anthropic) -> Outcome:
    parts: list[str] = []
    types: list[str] = []
    start_usage = None
    output_tokens = None
    with client.messages.with_streaming_response.create(
        model=ANTHROPIC_MODEL, max_tokens=256, system="You are terse.", messages=ANTHROPIC_MESSAGES, stream=True
    ) as raw:
        log_id = raw.headers.get("cf-aig-log-id")
        for event in raw.parse():
            types.append(event.type)
            if event.type == "message_start":
                start_usage = event.message.usage
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                parts.append(event.delta.text)
            elif event.type == "message_delta":
                output_tokens = event.usage.output_tokens
    return Outcome(
        provider="anthropic",
        model=ANTHROPIC_MODEL,
        stream=True,
        content="".join(parts),
        tokens_in=_anthropic_tokens_in(start_usage) if start_usage else None,
        tokens_out=output_tokens,
        cached_tokens_in=start_usage.cache_read_input_tokens if start_usage else None,
        cache_write_tokens=start_usage.cache_creation_input_tokens if start_usage else None,
        reasoning_tokens=None,
        log_id=log_id,
        event_types=types,
    )
