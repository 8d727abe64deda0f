#!/usr/bin/env python3
"""Writes the Bedrock event stream fixtures (Fixtures/bedrock-*.eventstream) from the JSON events below.

AWS event stream framing (docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html): total length,
headers length, prelude CRC32, headers (name length, name, type 7 = string, 2-byte length, value), payload,
message CRC32; big-endian. Run from the repository root: python3 scripts/eventstream-fixtures.py
"""
import base64
import json
import struct
import zlib


def header(name, value):
    n, v = name.encode(), value.encode()
    return bytes([len(n)]) + n + bytes([7]) + struct.pack(">H", len(v)) + v


def message(event_type, payload):
    headers = (header(":event-type", event_type) + header(":content-type", "application/json")
               + header(":message-type", "event"))
    body = json.dumps(payload, separators=(",", ":")).encode()
    total = 16 + len(headers) + len(body)
    prelude = struct.pack(">II", total, len(headers))
    out = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return out + struct.pack(">I", zlib.crc32(out))


# ConverseStream: ConverseStreamOutput members, one per event; usage in `metadata`
# (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
converse = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Event streams frame"}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": " each message with two CRCs."}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 318, "outputTokens": 14, "totalTokens": 1356,
                            "cacheReadInputTokens": 1024, "cacheWriteInputTokens": 0},
                  "metrics": {"latencyMs": 402}}),
]

# InvokeModelWithResponseStream with an Anthropic model: `chunk` events whose PayloadPart `bytes` is the base64
# of one Anthropic streaming event (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_PayloadPart.html,
# docs.anthropic.com/en/docs/build-with-claude/streaming).
anthropic_events = [
    {"type": "message_start", "message": {
        "id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "model": "claude-3-5-haiku-20241022", "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 21, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello from Bedrock."}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 87}},
    {"type": "message_stop"},
]
invoke = [("chunk", {"bytes": base64.b64encode(json.dumps(e, separators=(",", ":")).encode()).decode()})
          for e in anthropic_events]

for name, events in [("bedrock-converse-stream", converse), ("bedrock-invoke-stream", invoke)]:
    with open(f"Fixtures/{name}.eventstream", "wb") as f:
        f.write(b"".join(message(t, p) for t, p in events))
