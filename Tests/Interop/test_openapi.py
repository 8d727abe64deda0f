"""The OpenAPI document served at /api/v1/openapi.json: a valid OpenAPI 3.1 document, and the live API answers as it
says. Schemathesis drives a gateway of its own (it creates, changes and deletes accounts, gateways, prices and logs)
with a bounded number of generated requests per operation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import validate

import support
from conftest import Gateway, Mock, serve_gateway

# Examples per operation in the fuzzing phase, and a bound on the whole run.
MAX_EXAMPLES = int(os.environ.get("TOLLGATE_SCHEMATHESIS_EXAMPLES", "8"))
RUN_TIMEOUT_S = 600

# What is checked: no 5xx; statuses, content types, headers and bodies as documented; 405 for a method a path does not
# take. Not checked: that every schema-valid request is accepted, since some rules span parameters (`to` after
# `from`, `all=true` or a filter, a cursor from a previous page) and a schema cannot say them.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
    ]
)


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def fuzzed_gateway(mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    serving = serve_gateway("serve-fuzzed", [f"openai={mock.url}/v1"], tmp_path_factory, token_prefix="tg-fuzz-")
    gateway = next(serving)
    # A few logs, so the log routes have something to list, read, patch and delete.
    body = json.dumps({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()
    for _ in range(3):
        request = urllib.request.Request(
            gateway.provider_url("openai") + "/chat/completions", data=body,
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    yield gateway
    # Stops the gateway and checks that it stopped cleanly.
    for _ in serving:
        pass


def test_document_is_valid_openapi_and_needs_no_token(gateway: Gateway) -> None:
    status, body = fetch(f"{gateway.url}/api/v1/openapi.json")
    assert status == 200
    document = json.loads(body)
    validate(document)
    assert document["openapi"] == "3.1.0"
    # The committed copy is what the gateway serves.
    committed = support.REPO_ROOT / "Sources" / "TollgateGateway" / "API" / "openapi.json"
    assert json.loads(committed.read_text()) == document


def test_live_api_conforms_to_the_document(fuzzed_gateway: Gateway, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    report = tmp_path / "schemathesis.txt"
    command = [
        str(schemathesis), "run", f"{fuzzed_gateway.url}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {fuzzed_gateway.token}",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "14",
        "--request-timeout", "30",
        "--no-color",
    ]
    with open(report, "w") as out:
        result = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S, cwd=tmp_path)
    text = report.read_text(errors="replace")
    assert result.returncode == 0, text[-12000:]
    assert "Test cases:" in text
