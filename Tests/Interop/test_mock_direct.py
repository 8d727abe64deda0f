"""The official SDKs against `tollgate mock-provider` directly: the mock must parse as the real APIs do."""

from __future__ import annotations

import base64
import struct

import anthropic
import openai
import pytest

import scenarios

REPLY = "This is a deterministic reply from the Tollgate mock provider."
REPLY_WORDS = 10
# Words in scenarios.CHAT_MESSAGES: 7 + 7.
CHAT_INPUT_TOKENS = 14
# "Be brief." + "Write one line about toll roads".
RESPONSES_INPUT_TOKENS = 8
# "You are terse." + "Say hello to everyone reading these logs".
ANTHROPIC_INPUT_TOKENS = 10


def test_chat_completion(mock_openai: openai.OpenAI) -> None:
    outcome = scenarios.chat(mock_openai)
    assert outcome.content == REPLY
    assert outcome.tokens_in == CHAT_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS
    assert outcome.extra == {"finish_reason": "stop", "response_model": scenarios.CHAT_MODEL}
    assert outcome.log_id is None


def test_chat_completion_is_deterministic(mock_openai: openai.OpenAI) -> None:
    first = mock_openai.chat.completions.with_raw_response.create(
        model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES
    )
    second = mock_openai.chat.completions.with_raw_response.create(
        model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES
    )
    assert first.content == second.content
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_chat_stream_without_usage(mock_openai: openai.OpenAI) -> None:
    outcome = scenarios.chat_stream(mock_openai, include_usage=None)
    assert outcome.content == REPLY
    assert outcome.tokens_in is None and outcome.tokens_out is None
    assert outcome.extra["finish_reason"] == "stop"
    assert outcome.extra["chunks"] == REPLY_WORDS + 2


def test_chat_stream_with_include_usage(mock_openai: openai.OpenAI) -> None:
    outcome = scenarios.chat_stream(mock_openai, include_usage=True)
    assert outcome.content == REPLY
    assert outcome.tokens_in == CHAT_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS
    assert outcome.extra["chunks"] == REPLY_WORDS + 3
    assert outcome.extra["null_usage_chunks"] == REPLY_WORDS + 2


def test_chat_stream_helper_accumulates(mock_openai: openai.OpenAI) -> None:
    with mock_openai.chat.completions.stream(
        model=scenarios.CHAT_MODEL, messages=scenarios.CHAT_MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        completion = stream.get_final_completion()
    assert completion.choices[0].message.content == REPLY
    assert completion.usage.total_tokens == CHAT_INPUT_TOKENS + REPLY_WORDS


def test_responses(mock_openai: openai.OpenAI) -> None:
    outcome = scenarios.responses(mock_openai)
    assert outcome.content == REPLY
    assert outcome.extra["status"] == "completed"
    assert outcome.tokens_in == RESPONSES_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS


def test_responses_stream(mock_openai: openai.OpenAI) -> None:
    outcome = scenarios.responses_stream(mock_openai)
    assert outcome.content == REPLY
    assert outcome.extra["completed_text"] == REPLY
    assert outcome.event_types[0] == "response.created"
    assert outcome.event_types[-1] == "response.completed"
    assert outcome.event_types.count("response.output_text.delta") == REPLY_WORDS
    assert outcome.tokens_in == RESPONSES_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS


def test_responses_stream_helper(mock_openai: openai.OpenAI) -> None:
    with mock_openai.responses.stream(model=scenarios.RESPONSES_MODEL, input="Write one line") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == REPLY
    assert final.output_text == REPLY
    assert final.usage.output_tokens == REPLY_WORDS


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_embeddings(mock_openai: openai.OpenAI, encoding_format: str | None) -> None:
    outcome = scenarios.embeddings(mock_openai, encoding_format)
    if encoding_format == "base64":
        # Asked for explicitly, base64 comes back as sent: little-endian float32 values.
        assert all(isinstance(vector, str) for vector in outcome.content)
        outcome.content = [
            list(struct.unpack(f"<{len(raw) // 4}f", raw)) for raw in (base64.b64decode(v) for v in outcome.content)
        ]
    assert len(outcome.content) == 2
    assert all(len(vector) == 64 for vector in outcome.content)
    assert all(-1.0 <= value <= 1.0 for vector in outcome.content for value in vector)
    assert outcome.tokens_in == 5
    reference = scenarios.embeddings(mock_openai, "float")
    for vector, expected in zip(outcome.content, reference.content):
        assert vector == pytest.approx(expected, abs=1e-6)


def test_messages(mock_anthropic: anthropic.Anthropic) -> None:
    outcome = scenarios.messages(mock_anthropic)
    assert outcome.content == REPLY
    assert outcome.extra["stop_reason"] == "end_turn"
    assert outcome.tokens_in == ANTHROPIC_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS
    assert outcome.cached_tokens_in == 0 and outcome.cache_write_tokens == 0


def test_messages_stream(mock_anthropic: anthropic.Anthropic) -> None:
    outcome = scenarios.messages_stream(mock_anthropic)
    assert outcome.content == REPLY
    assert outcome.event_types == (
        ["message_start", "content_block_start"]
        + ["content_block_delta"] * REPLY_WORDS
        + ["content_block_stop", "message_delta", "message_stop"]
    )
    assert outcome.tokens_in == ANTHROPIC_INPUT_TOKENS
    assert outcome.tokens_out == REPLY_WORDS


def test_messages_stream_helper(mock_anthropic: anthropic.Anthropic) -> None:
    with mock_anthropic.messages.stream(
        model=scenarios.ANTHROPIC_MODEL, max_tokens=256, system="You are terse.", messages=scenarios.ANTHROPIC_MESSAGES
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == REPLY
    assert message.content[0].text == REPLY
    assert message.usage.input_tokens == ANTHROPIC_INPUT_TOKENS
    assert message.usage.output_tokens == REPLY_WORDS
    assert message.stop_reason == "end_turn"


def test_usage_override_header(mock_openai: openai.OpenAI, mock_anthropic: anthropic.Anthropic) -> None:
    chat = scenarios.chat(mock_openai, headers={"x-mock-usage": "cached=4,reasoning=3"})
    assert chat.cached_tokens_in == 4
    assert chat.reasoning_tokens == 3
    assert chat.tokens_out == REPLY_WORDS + 3
    message = scenarios.messages(mock_anthropic, headers={"x-mock-usage": "cached=2,cache-write=3"})
    assert message.tokens_in == ANTHROPIC_INPUT_TOKENS
    assert message.cached_tokens_in == 2
    assert message.cache_write_tokens == 3


def test_openai_error_shape(mock_openai: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        scenarios.chat(mock_openai, headers={"x-mock-fault": "status=429"})
    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.NotFoundError):
        mock_openai.models.list()


def test_anthropic_error_shape(mock_anthropic: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.InternalServerError) as raised:
        scenarios.messages(mock_anthropic, headers={"x-mock-fault": "status=529"})
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"


def test_cut_stream_is_an_error(mock_openai: openai.OpenAI) -> None:
    parts: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream = mock_openai.chat.completions.create(
            model=scenarios.CHAT_MODEL,
            messages=scenarios.CHAT_MESSAGES,
            stream=True,
            extra_headers={"x-mock-fault": "cut-stream-after=3"},
        )
        for chunk in stream:
            parts.append(chunk.choices[0].delta.content or "")
    assert "".join(parts) == "This is"
