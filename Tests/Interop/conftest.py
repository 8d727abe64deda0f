"""Fixtures: a `tollgate mock-provider` and a `tollgate serve` in front of it, on free loopback ports."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import anthropic
import openai
import pytest

import support

SDK_TIMEOUT_S = 30.0


@dataclass
class Mock:
    port: int
    process: support.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Gateway:
    port: int
    token: str
    process: support.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def provider_url(self, provider: str, account: str = "default", gateway: str = "default") -> str:
        return f"{self.url}/v1/{account}/{gateway}/{provider}"


def serve_gateway(name: str, upstreams: list[str], tmp_path_factory: pytest.TempPathFactory, token_prefix: str = "tg-test-"):
    """Runs `tollgate serve` on a data folder of its own with the given `--upstream` values; yields its `Gateway` and
    checks at the end that it stopped cleanly on SIGTERM."""
    logs = tmp_path_factory.mktemp(name)
    data = tmp_path_factory.mktemp(name + "-data")
    port = support.free_port()
    token = token_prefix + secrets.token_hex(16)
    args = ["serve", "--port", str(port), "--data", str(data)]
    for upstream in upstreams:
        args += ["--upstream", upstream]
    process = support.start(name, args, logs, env={"TOLLGATE_ADMIN_TOKEN": token})
    try:
        process.wait_for_port(port)
    except BaseException:
        process.stop()
        raise
    yield Gateway(port=port, token=token, process=process)
    status = process.stop()
    assert status == 0, f"tollgate serve exited with {status} on SIGTERM:\n{process.output()}"


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory):
    logs = tmp_path_factory.mktemp("mock")
    port = support.free_port()
    process = support.start("mock-provider", ["mock-provider", "--port", str(port)], logs)
    try:
        process.wait_for_port(port)
    except BaseException:
        process.stop()
        raise
    yield Mock(port=port, process=process)
    status = process.stop()
    assert status == 0, f"mock-provider exited with {status} on SIGTERM:\n{process.output()}"


@pytest.fixture(scope="session")
def gateway(mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    yield from serve_gateway(
        "serve",
        [
            f"openai={mock.url}/v1",
            f"anthropic={mock.url}",
            # Templated providers: the URL replaces the host their path names; the mapped path stays.
            f"azure-openai={mock.url}",
            f"google-vertex-ai={mock.url}",
            f"workers-ai={mock.url}",
        ],
        tmp_path_factory,
    )


def openai_client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-test-interop", max_retries=0, timeout=SDK_TIMEOUT_S)


def anthropic_client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test-interop", max_retries=0, timeout=SDK_TIMEOUT_S)


@pytest.fixture
def mock_openai(mock: Mock) -> openai.OpenAI:
    return openai_client(f"{mock.url}/v1")


@pytest.fixture
def mock_anthropic(mock: Mock) -> anthropic.Anthropic:
    return anthropic_client(mock.url)


@pytest.fixture
def gateway_openai(gateway: Gateway) -> openai.OpenAI:
    return openai_client(gateway.provider_url("openai"))


@pytest.fixture
def gateway_anthropic(gateway: Gateway) -> anthropic.Anthropic:
    return anthropic_client(gateway.provider_url("anthropic"))
