"""boto3's `bedrock-runtime` client (Converse, plain and streamed) against the mock provider, which checks SigV4
signatures, and through `tollgate serve` with an AWS key kept by the gateway: the client signs with dummy
credentials, the gateway drops that signature and signs with the stored key, and the mock's check proves the gateway's
signature verifies.

botocore appends the operation's path to an `endpoint_url` that has a path of its own (`{endpoint}/model/{modelId}/
converse`, the `:` of the model id escaped as `%3A`), so the gateway's Bedrock base URL is
`…/v1/{account}/{gateway}/aws-bedrock/bedrock-runtime/{region}`."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

import support
from conftest import SDK_TIMEOUT_S, Gateway, Mock, serve_gateway

REGION = "us-east-1"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ACCESS_KEY_ID = "AKIAINTEROPSTORED7Q2Z"
SECRET_ACCESS_KEY = "interop/Stored+Secret/Key0123456789abcdef"
MESSAGES = [{"role": "user", "content": [{"text": "Say hello to everyone reading these logs"}]}]


@pytest.fixture(scope="module")
def signing_mock(tmp_path_factory: pytest.TempPathFactory):
    """A mock provider that answers Bedrock only for requests signed with the stored key's secret."""
    logs = tmp_path_factory.mktemp("bedrock-mock")
    port = support.free_port()
    process = support.start(
        "bedrock-mock",
        ["mock-provider", "--port", str(port), "--aws-secret-key", SECRET_ACCESS_KEY,
         "--aws-access-key-id", ACCESS_KEY_ID],
        logs,
    )
    try:
        process.wait_for_port(port)
    except BaseException:
        process.stop()
        raise
    yield Mock(port=port, process=process)
    status = process.stop()
    assert status == 0, f"mock-provider exited with {status} on SIGTERM:\n{process.output()}"


@pytest.fixture(scope="module")
def bedrock_gateway(signing_mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    yield from serve_gateway("bedrock-gateway", [f"aws-bedrock={signing_mock.url}"], tmp_path_factory)


def api(gateway: Gateway, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{gateway.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {gateway.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def client(endpoint_url: str, access_key_id: str, secret: str, gateway_token: str | None = None):
    runtime = boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        config=botocore.config.Config(
            retries={"max_attempts": 1}, read_timeout=SDK_TIMEOUT_S, connect_timeout=SDK_TIMEOUT_S
        ),
    )
    if gateway_token is not None:
        def authorize(request, **_: Any) -> None:
            request.headers["cf-aig-authorization"] = f"Bearer {gateway_token}"

        runtime.meta.events.register("before-sign.bedrock-runtime.*", authorize)
    return runtime


def converse(runtime) -> tuple[str, dict, str | None]:
    response = runtime.converse(modelId=MODEL, messages=MESSAGES)
    text = response["output"]["message"]["content"][0]["text"]
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    return text, response["usage"], headers.get("x-mock-signature")


def converse_stream(runtime) -> tuple[str, dict, list[str], str | None]:
    response = runtime.converse_stream(modelId=MODEL, messages=MESSAGES)
    text, usage, kinds = "", None, []
    for event in response["stream"]:
        (kind,) = event.keys()
        kinds.append(kind)
        if kind == "contentBlockDelta":
            text += event[kind]["delta"]["text"]
        elif kind == "metadata":
            usage = event[kind]["usage"]
    assert usage is not None, f"no metadata usage in {kinds}"
    return text, usage, kinds, response["ResponseMetadata"]["HTTPHeaders"].get("x-mock-signature")


def bedrock_logs(gateway: Gateway, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 3.0
    while True:
        status, body = support.get_json(
            f"{gateway.url}/api/v1/accounts/default/logs?limit=1000&order=asc", gateway.token
        )
        logs = [r for r in body.get("logs", []) if r.get("provider") == "aws-bedrock"] if status == 200 else []
        if len(logs) >= count or time.monotonic() >= deadline:
            return logs
        time.sleep(0.1)


def test_mock_checks_botocores_own_signature(signing_mock: Mock) -> None:
    """The mock's SigV4 check agrees with botocore's signer (model id `:` signed as `%253A`), and refuses others."""
    text, usage, verified = converse(client(signing_mock.url, ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    assert verified == "verified"
    assert text and usage["inputTokens"] == 7
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        converse(client(signing_mock.url, ACCESS_KEY_ID, "not-the-stored-secret-at-all"))
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto3_through_gateway_signed_with_stored_key(signing_mock: Mock, bedrock_gateway: Gateway) -> None:
    status, _ = api(bedrock_gateway, "POST", "/api/v1/accounts/default/gateways",
                    {"id": "signed", "authentication": True})
    assert status == 201
    status, token = api(bedrock_gateway, "POST", "/api/v1/accounts/default/tokens")
    assert status == 201
    status, stored = api(bedrock_gateway, "POST", "/api/v1/accounts/default/provider-keys", {
        "provider": "aws-bedrock", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY,
        "region": REGION,
    })
    assert status == 201, stored
    assert stored["preview"] == "7Q2Z" and SECRET_ACCESS_KEY not in json.dumps(stored)
    status, _ = api(bedrock_gateway, "POST", "/api/v1/prices", {
        "provider": "aws-bedrock", "model": MODEL, "effective_from": "2020-01-01", "input": 2, "output": 8,
        "source": "interop",
    })
    assert status == 201

    endpoint = bedrock_gateway.provider_url("aws-bedrock", gateway="signed") + f"/bedrock-runtime/{REGION}"
    # Dummy credentials: the signature they make is dropped, the gateway signs with the stored key.
    runtime = client(endpoint, "AKIDDUMMYCLIENT", "dummy-secret", gateway_token=token["token"])
    direct = client(signing_mock.url, ACCESS_KEY_ID, SECRET_ACCESS_KEY)

    plain = converse(runtime)
    assert plain == converse(direct)
    assert plain[2] == "verified"
    streamed = converse_stream(runtime)
    assert streamed == converse_stream(direct)
    assert streamed[2][0] == "messageStart" and streamed[2][-1] == "metadata"
    assert streamed[3] == "verified"

    # Without the gateway's token, the dummy signature reaches the mock and is refused there.
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        converse(client(endpoint.replace("/signed/", "/default/"), "AKIDDUMMYCLIENT", "dummy-secret"))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    logs = [r for r in bedrock_logs(bedrock_gateway, 3) if r["status_code"] == 200]
    assert len(logs) == 2, logs
    for record, stream, usage in zip(logs, [False, True], [plain[1], streamed[1]]):
        assert record["model"] == MODEL
        assert record["stream"] is stream
        assert record["tokens_in"] == usage["inputTokens"] == 7
        assert record["tokens_out"] == usage["outputTokens"]
        expected = (usage["inputTokens"] * 2 + usage["outputTokens"] * 8) / 1_000_000
        assert record["cost"] == pytest.approx(expected, rel=1e-9)
