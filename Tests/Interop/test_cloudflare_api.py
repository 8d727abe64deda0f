"""The official `cloudflare` Python SDK against Tollgate's Cloudflare-compatible routes under /client/v4.

It creates a gateway, a request goes through it, and the SDK's paginator lists the gateway's logs and reads one.
"""

from __future__ import annotations

import time

import cloudflare
import openai
import pytest

from conftest import SDK_TIMEOUT_S, Gateway, Mock, openai_client


def sdk(gateway: Gateway) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(
        api_token=gateway.token, base_url=f"{gateway.url}/client/v4", max_retries=0, timeout=SDK_TIMEOUT_S
    )


def create_gateway(client: cloudflare.Cloudflare, gateway_id: str):
    """A gateway that collects logs, with the settings the SDK requires named."""
    return client.ai_gateway.create(
        account_id="default",
        id=gateway_id,
        cache_invalidate_on_update=False,
        cache_ttl=None,
        collect_logs=True,
        rate_limiting_interval=None,
        rate_limiting_limit=None,
    )


def test_gateway_logs_through_the_cloudflare_sdk(gateway: Gateway) -> None:
    client = sdk(gateway)
    created = create_gateway(client, "cf-sdk")
    assert created.id == "cf-sdk"
    assert created.collect_logs is True
    fetched = client.ai_gateway.get("cf-sdk", account_id="default")
    assert fetched.id == "cf-sdk"
    assert "cf-sdk" in [g.id for g in client.ai_gateway.list(account_id="default", per_page=1)]

    proxied = openai_client(gateway.provider_url("openai", gateway="cf-sdk"))
    for _ in range(3):
        proxied.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])

    deadline = time.monotonic() + 5
    while True:
        # per_page=1: the paginator walks three pages and stops at the empty fourth. Pages are numbered, so a log
        # committed while the walk is under way shifts the pages after it: walk again until all three were there.
        logs = list(client.ai_gateway.logs.list("cf-sdk", account_id="default", per_page=1))
        if len({log.id for log in logs}) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(logs) == 3
    assert len({log.id for log in logs}) == 3
    assert all(log.provider == "openai" and log.model == "gpt-5-mini" and log.success for log in logs)

    one = client.ai_gateway.logs.get(logs[0].id, account_id="default", gateway_id="cf-sdk")
    assert one.id == logs[0].id
    # The log's bodies, as sent and as received.
    sent = client.ai_gateway.logs.request(logs[0].id, account_id="default", gateway_id="cf-sdk")
    assert sent["model"] == "gpt-5-mini" and sent["messages"][0]["content"] == "hi"
    received = client.ai_gateway.logs.response(logs[0].id, account_id="default", gateway_id="cf-sdk")
    assert received["object"] == "chat.completion" and received["usage"]["prompt_tokens"] > 0

    with pytest.raises(cloudflare.NotFoundError):
        client.ai_gateway.get("no-such-gateway", account_id="default")


def test_filter_patch_and_delete_through_the_cloudflare_sdk(gateway: Gateway) -> None:
    client = sdk(gateway)
    create_gateway(client, "cf-delete")
    proxied = openai_client(gateway.provider_url("openai", gateway="cf-delete"))
    for model in ["gpt-5-mini", "gpt-5-mini", "gpt-5-mini", "gpt-5-nano", "gpt-5-nano"]:
        proxied.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])

    deadline = time.monotonic() + 5
    while len(list(client.ai_gateway.logs.list("cf-delete", account_id="default"))) < 5:
        assert time.monotonic() < deadline, "the five logs were not listed in time"
        time.sleep(0.05)

    # The `filters` array, as the SDK sends it, narrows the listing.
    nano = list(
        client.ai_gateway.logs.list(
            "cf-delete",
            account_id="default",
            filters=[{"key": "model", "operator": "eq", "value": ["gpt-5-nano"]}],
        )
    )
    assert len(nano) == 2 and all(log.model == "gpt-5-nano" for log in nano)

    # Feedback through the SDK's `edit`, then read back as a filter.
    client.ai_gateway.logs.edit(nano[0].id, account_id="default", gateway_id="cf-delete", feedback=1, score=90)
    liked = list(
        client.ai_gateway.logs.list(
            "cf-delete", account_id="default", filters=[{"key": "feedback", "operator": "eq", "value": [1]}]
        )
    )
    assert [log.id for log in liked] == [nano[0].id]

    # A filter Tollgate cannot apply exactly is refused, and nothing is deleted.
    with pytest.raises(cloudflare.BadRequestError):
        client.ai_gateway.logs.delete(
            "cf-delete", account_id="default", filters=[{"key": "cost", "operator": "gt", "value": [0]}]
        )
    assert len(list(client.ai_gateway.logs.list("cf-delete", account_id="default"))) == 5

    # Delete by filter: only the mini logs go.
    deleted = client.ai_gateway.logs.delete(
        "cf-delete", account_id="default", filters=[{"key": "model", "operator": "eq", "value": ["gpt-5-mini"]}]
    )
    assert deleted.success is True
    left = list(client.ai_gateway.logs.list("cf-delete", account_id="default"))
    assert sorted(log.model for log in left) == ["gpt-5-nano", "gpt-5-nano"]

    # `limit` with the newest first: of the two remaining, the newest goes.
    oldest = list(client.ai_gateway.logs.list("cf-delete", account_id="default", order_by_direction="asc"))[0]
    client.ai_gateway.logs.delete("cf-delete", account_id="default", limit=1, order_by_direction="desc")
    remaining = list(client.ai_gateway.logs.list("cf-delete", account_id="default"))
    assert [log.id for log in remaining] == [oldest.id]

    # Deleting the gateway: gone from the API, and the proxy answers 404 for it.
    gone = client.ai_gateway.delete("cf-delete", account_id="default")
    assert gone.id == "cf-delete"
    with pytest.raises(cloudflare.NotFoundError):
        client.ai_gateway.get("cf-delete", account_id="default")
    with pytest.raises(Exception) as refused:
        proxied.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert getattr(refused.value, "status_code", None) == 404


def test_custom_providers_through_the_cloudflare_sdk(gateway: Gateway, mock: Mock) -> None:
    client = sdk(gateway)
    created = client.ai_gateway.custom_providers.create(
        account_id="default",
        slug="house-llm",
        name="House LLM",
        base_url=f"{mock.url}/v1",
        extra_body={"api": "openai"},  # Tollgate's: read OpenAI-shaped usage
    )
    assert (created.id, created.slug, created.name) == ("house-llm", "house-llm", "House LLM")
    assert created.base_url == f"{mock.url}/v1"

    # Proxied at custom-{slug}, its usage read as OpenAI's.
    proxied = openai_client(gateway.provider_url("custom-house-llm"))
    answer = proxied.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert answer.usage is not None and answer.usage.prompt_tokens > 0

    listed = list(client.ai_gateway.custom_providers.list(account_id="default", search="house"))
    assert [p.id for p in listed] == ["house-llm"]
    assert client.ai_gateway.custom_providers.get("house-llm", account_id="default").name == "House LLM"

    # Cloudflare fields Tollgate does not apply are refused by name, not ignored.
    with pytest.raises(cloudflare.BadRequestError) as refused:
        client.ai_gateway.custom_providers.create(
            account_id="default", slug="other", name="Other", base_url=f"{mock.url}/v1", headers='{"x-k":"v"}'
        )
    assert "headers" in str(refused.value)

    client.ai_gateway.custom_providers.delete("house-llm", account_id="default")
    with pytest.raises(cloudflare.NotFoundError):
        client.ai_gateway.custom_providers.get("house-llm", account_id="default")
    # The next request naming it is refused as an unknown provider.
    with pytest.raises(openai.BadRequestError):
        proxied.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
