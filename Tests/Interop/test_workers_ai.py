"""Workers AI through `tollgate serve` (in front of the mock) at Cloudflare AI Gateway's paths.

- The OpenAI SDK at `…/workers-ai/v1`, as Cloudflare's Workers AI provider page points it: the OpenAI-compatible
  chat completions, plain and streamed, the model in the body.
- The REST run `…/workers-ai/{model}` as Cloudflare's curl example sends it (plain HTTP, no SDK): the model only in
  the path, the usage in the `result` envelope or, streamed, in the last `data:` event.

The gateway path's account is the Cloudflare account id, so the upstream is `/client/v4/accounts/default/ai/…`.
"""

from __future__ import annotations

import json
import urllib.request

import openai

from conftest import SDK_TIMEOUT_S, Gateway
from test_gateway import find_log

CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fp8"
RUN_MODEL = "@cf/meta/llama-3.2-3b-instruct"
MESSAGES = [{"role": "user", "content": "What is Cloudflare?"}]


def workers_client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.provider_url("workers-ai") + "/v1",
        api_key="cf-api-token",
        max_retries=0,
        timeout=SDK_TIMEOUT_S,
    )


def post(url: str, body: dict) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer cf-api-token"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=SDK_TIMEOUT_S) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_openai_sdk_chat_through_workers_ai_is_logged_with_the_bodys_model(gateway: Gateway) -> None:
    client = workers_client(gateway)
    response = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=MESSAGES)
    completion = response.parse()
    assert completion.model == CHAT_MODEL
    record = find_log(gateway, response.headers["cf-aig-log-id"])
    assert record["provider"] == "workers-ai"
    assert record["model"] == CHAT_MODEL
    assert record["path"] == "/v1/chat/completions"
    assert record["tokens_in"] == completion.usage.prompt_tokens
    assert record["tokens_out"] == completion.usage.completion_tokens
    assert record["cost"] is not None and record["cost"] > 0


def test_openai_sdk_stream_through_workers_ai_passes_every_chunk(gateway: Gateway) -> None:
    client = workers_client(gateway)
    with client.chat.completions.with_streaming_response.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        log_id = response.headers["cf-aig-log-id"]
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    usage = next(c.usage for c in chunks if c.usage is not None)
    record = find_log(gateway, log_id)
    assert record["stream"] is True
    assert record["model"] == CHAT_MODEL
    assert record["tokens_in"] == usage.prompt_tokens
    assert record["tokens_out"] == usage.completion_tokens


def test_rest_run_names_its_model_in_the_path_and_is_priced(gateway: Gateway) -> None:
    url = f"{gateway.provider_url('workers-ai')}/{RUN_MODEL}"
    status, headers, body = post(url, {"prompt": "What is Cloudflare?"})
    assert status == 200
    envelope = json.loads(body)
    assert envelope["success"] is True
    usage = envelope["result"]["usage"]
    record = find_log(gateway, headers["cf-aig-log-id"])
    assert record["model"] == RUN_MODEL
    assert record["path"] == f"/{RUN_MODEL}"
    assert record["tokens_in"] == usage["prompt_tokens"]
    assert record["tokens_out"] == usage["completion_tokens"]
    assert record["cost"] is not None and record["cost"] > 0

    status, headers, body = post(url, {"prompt": "What is Cloudflare?", "stream": True})
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: ") :] for line in body.decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    final = json.loads(events[-2])
    assert final["response"] == ""
    record = find_log(gateway, headers["cf-aig-log-id"])
    assert record["stream"] is True
    assert record["model"] == RUN_MODEL
    assert record["tokens_in"] == final["usage"]["prompt_tokens"]
    assert record["tokens_out"] == final["usage"]["completion_tokens"]
    assert record["cost"] is not None and record["cost"] > 0
