"""The official `cloudflare` Python SDK against Tollgate's Cloudflare-compatible routes under /client/v4.

It creates a gateway, a request goes through it, and the SDK's paginator lists the gateway's logs and reads one.
"""

from __future__ import annotations

import time

import cloudflare
import pytest

from conftest import SDK_TIMEOUT_S, Gateway, openai_client


def sdk(gateway: Gateway) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(
        api_token=gateway.token, base_url=f"{gateway.url}/client/v4", max_retries=0, timeout=SDK_TIMEOUT_S
    )


def test_gateway_logs_through_the_cloudflare_sdk(gateway: Gateway) -> None:
    client = sdk(gateway)
    created = client.ai_gateway.create(
        account_id="default",
        id="cf-sdk",
        cache_invalidate_on_update=False,
        cache_ttl=None,
        collect_logs=True,
        rate_limiting_interval=None,
        rate_limiting_limit=None,
    )
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
        # per_page=1: the paginator walks three pages and stops at the empty fourth.
        logs = list(client.ai_gateway.logs.list("cf-sdk", account_id="default", per_page=1))
        if len(logs) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(logs) == 3
    assert len({log.id for log in logs}) == 3
    assert all(log.provider == "openai" and log.model == "gpt-5-mini" and log.success for log in logs)

    one = client.ai_gateway.logs.get(logs[0].id, account_id="default", gateway_id="cf-sdk")
    assert one.id == logs[0].id

    with pytest.raises(cloudflare.NotFoundError):
        client.ai_gateway.get("no-such-gateway", account_id="default")
