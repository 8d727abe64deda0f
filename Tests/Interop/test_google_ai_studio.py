"""The `google-genai` SDK against Google AI Studio (`google-ai-studio`) by base URL, through `tollgate serve` to the
mock provider: `generate_content` and `generate_content_stream`, the key in `x-goog-api-key`, usage from
`usageMetadata` logged with the model the path names."""

from __future__ import annotations

import pytest

from conftest import Gateway, Mock, serve_gateway
from test_templated import wait_for_record

MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def studio_gateway(mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    yield from serve_gateway("studio-gateway", [f"google-ai-studio={mock.url}"], tmp_path_factory)


@pytest.mark.parametrize("stream", [False, True], ids=["generate-content", "stream-generate-content"])
def test_google_genai_through_gateway_by_base_url(stream: bool, studio_gateway: Gateway) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key="AIza-interop-test-key",
        http_options=types.HttpOptions(
            base_url=studio_gateway.provider_url("google-ai-studio") + "/",
            api_version="v1beta",
            headers={"x-mock-usage": "cached=2"},
        ),
    )
    if stream:
        chunks = list(client.models.generate_content_stream(model=MODEL, contents="Explain how AI works"))
        text = "".join(chunk.text or "" for chunk in chunks)
        usage = chunks[-1].usage_metadata
    else:
        response = client.models.generate_content(model=MODEL, contents="Explain how AI works")
        text = response.text
        usage = response.usage_metadata
    assert text
    record = wait_for_record(
        studio_gateway,
        lambda r: r["provider"] == "google-ai-studio" and r["model"] == MODEL and r["stream"] is stream,
    )
    assert record["path"].startswith(
        f"/v1beta/models/{MODEL}:" + ("streamGenerateContent" if stream else "generateContent")
    )
    assert record["tokens_in"] == usage.prompt_token_count == 4
    assert record["cached_tokens_in"] == usage.cached_content_token_count == 2
    assert record["tokens_out"] == usage.candidates_token_count
