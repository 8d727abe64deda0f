"""The operator dashboard (`/dashboard`) in a real browser: Debian's headless `chromium` driven through
`chromium-driver` (selenium), against a gateway filled by `tollgate generate`.

Checks that the totals the page shows equal the REST API's usage answer for the range the page shows, that the log
explorer pages, opens a log and records feedback, that an account token signs in through the form, and that the
browser logged no console error (a Content-Security-Policy violation is one). Screenshots go to the test's temporary
folder, or to $TOLLGATE_SCREENSHOTS when set (the README's picture is made that way)."""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import support
from conftest import Mock, openai_client

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ACCOUNT = "acme"
RECORDS = 3000
WAIT_S = 30.0
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (scripts/interop.sh installs them)",
)


def request(method: str, url: str, token: str | None = None, body: dict | None = None, headers: dict | None = None):
    """(status, headers, bytes) of one HTTP request."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def filled(mock: Mock, tmp_path_factory: pytest.TempPathFactory):
    """A `tollgate serve` over a data folder `tollgate generate` filled for account `acme`, with a spend limit on
    one gateway, an account token, and one real streamed chat completion through the mock provider."""
    data = tmp_path_factory.mktemp("dashboard-data")
    logs = tmp_path_factory.mktemp("dashboard")
    generated = subprocess.run(
        [support.tollgate_binary(), "generate", "--data", str(data), "--account", ACCOUNT,
         "--records", str(RECORDS), "--days", "7", "--seed", "11"],
        capture_output=True, text=True, timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    port = support.free_port()
    token = "tg-test-" + secrets.token_hex(16)
    process = support.start(
        "dashboard-serve", ["serve", "--port", str(port), "--data", str(data), "--upstream", f"openai={mock.url}/v1"],
        logs, env={"TOLLGATE_ADMIN_TOKEN": token})
    try:
        process.wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        status, _, body = request("GET", f"{url}/api/v1/accounts/{ACCOUNT}/gateways", token)
        assert status == 200, body
        gateways = [g["id"] for g in json.loads(body)["gateways"]]
        assert gateways, "generate made no gateway"
        rule = {"id": "daily", "limit": 25, "limitType": "cost", "window": 86400, "technique": "fixed", "enabled": True}
        status, _, body = request("PATCH", f"{url}/api/v1/accounts/{ACCOUNT}/gateways/{gateways[0]}", token,
                                  {"spend_limits": {"enabled": True, "rules": [rule]}})
        assert status == 200, body
        status, _, body = request("POST", f"{url}/api/v1/accounts/{ACCOUNT}/tokens", token)
        assert status == 201, body
        account_token = json.loads(body)["token"]
        client = openai_client(f"{url}/v1/{ACCOUNT}/{gateways[0]}/openai")
        stream = client.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}], stream=True,
            extra_headers={"cf-aig-metadata": json.dumps({"probe": "dashboard"})})
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        probe = None
        for _ in range(100):
            status, _, body = request(
                "GET", f"{url}/api/v1/accounts/{ACCOUNT}/logs?metadata.probe=dashboard", token)
            found = json.loads(body)["logs"] if status == 200 else []
            if found:
                probe = found[0]
                break
            time.sleep(0.05)
        assert probe is not None and probe["stream"], "the streamed request was not logged"
        yield {"url": url, "token": token, "account_token": account_token, "gateways": gateways, "probe": probe}
    finally:
        assert process.stop() == 0, process.output()


@pytest.fixture
def browser(request):
    """Headless chromium in the time zone the test names (`indirect` parameter), UTC by default."""
    zone = getattr(request, "param", "UTC")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1440,2600", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, env={**os.environ, "TZ": zone})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TOLLGATE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def waiting(driver) -> WebDriverWait:
    """A bounded wait that retries when the page redrew an element it was reading."""
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException,))


def choose(driver, name: str, value: str) -> None:
    """Sets a log filter's select, then searches."""
    driver.execute_script(
        "document.querySelector(`#log-filters select[name=${arguments[0]}]`).value = arguments[1]", name, value)
    driver.find_element(By.CSS_SELECTOR, "#log-filters button[type=submit]").click()


def wait_ready(driver) -> None:
    waiting(driver).until(
        lambda d: d.find_element(By.ID, "board").get_attribute("data-ready") == "true")


def api_usage(filled: dict, driver, token: str) -> dict:
    shown = driver.find_element(By.ID, "range-shown")
    query = f"from={shown.get_attribute('data-from')}&to={shown.get_attribute('data-to')}"
    status, _, body = request("GET", f"{filled['url']}/api/v1/accounts/{ACCOUNT}/usage?{query}", token)
    assert status == 200, body
    return json.loads(body)["totals"]


def fmt_usd(value: float) -> str:
    """Dollars as the page writes them: 2 decimals from a cent, else 4, else 6 (0 as $0.00)."""
    magnitude = abs(value)
    digits = 2 if magnitude >= 1 or magnitude == 0 else 4 if magnitude >= 0.01 else 6
    return f"${value:,.{digits}f}"


def check_totals(driver, totals: dict) -> None:
    """The tiles and the breakdown's total row show the API's totals."""
    requests_tile = driver.find_element(By.ID, "total-requests")
    assert totals["requests"] > 0
    assert int(requests_tile.get_attribute("data-value")) == totals["requests"]
    assert requests_tile.text == f"{totals['requests']:,}"
    assert int(driver.find_element(By.ID, "breakdown-requests").get_attribute("data-value")) == totals["requests"]
    cost_tile = driver.find_element(By.ID, "total-cost")
    assert math.isclose(float(cost_tile.get_attribute("data-value")), totals["cost"], rel_tol=1e-9, abs_tol=1e-9)
    assert cost_tile.text == fmt_usd(totals["cost"])
    breakdown_cost = float(driver.find_element(By.ID, "breakdown-cost").get_attribute("data-value"))
    assert math.isclose(breakdown_cost, totals["cost"], rel_tol=1e-9, abs_tol=1e-9)
    saved = float(driver.find_element(By.ID, "total-saved").get_attribute("data-value"))
    assert math.isclose(saved, totals["saved_cost"], rel_tol=1e-9, abs_tol=1e-9)
    assert int(driver.find_element(By.ID, "total-errors").get_attribute("data-value")) == totals["errors"]
    tokens = int(driver.find_element(By.ID, "total-tokens").get_attribute("data-value"))
    assert tokens == totals["tokens_in"] + totals["tokens_out"]


def test_dashboard_assets_are_served_without_token(filled):
    url = filled["url"]
    expected = {
        "/dashboard": "text/html",
        "/dashboard/app.js": "text/javascript",
        "/dashboard/charts.js": "text/javascript",
        "/dashboard/style.css": "text/css",
    }
    for path, kind in expected.items():
        status, headers, body = request("GET", url + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith(kind), path
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        etag = headers["ETag"]
        assert etag.startswith('"') and len(body) > 100
        status, _, body = request("GET", url + path, headers={"If-None-Match": etag})
        assert status == 304 and body == b"", path
    # No inline script in the page: every <script> names its source.
    status, _, page = request("GET", url + "/dashboard")
    text = page.decode()
    assert text.count("<script") == text.count("<script src=")
    status, _, _ = request("GET", url + "/dashboard?modle=x")
    assert status == 400


# Buckets are in the browser's time zone: one with daylight saving time, one half an hour off UTC.
@pytest.mark.parametrize("browser", ["America/New_York"], indirect=True)
def test_dashboard_admin_totals_logs_and_feedback(filled, browser, tmp_path):
    screenshots = screenshot_dir(tmp_path)
    browser.get(f"{filled['url']}/dashboard#token={filled['token']}&account={ACCOUNT}")
    wait_ready(browser)
    # The token left the address bar and lives in sessionStorage only.
    assert "token" not in browser.current_url
    assert browser.execute_script("return sessionStorage.getItem('tollgate.token')") == filled["token"]
    assert browser.execute_script("return localStorage.length") == 0
    check_totals(browser, api_usage(filled, browser, filled["token"]))
    assert browser.find_element(By.ID, "range-shown").get_attribute("data-zone") == "America/New_York"
    # Charts are drawn (SVG), the quota bar and the spend rule shown.
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 8
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-requests svg rect")
    status, _, body = request("GET", f"{filled['url']}/api/v1/accounts/{ACCOUNT}/quota", filled["token"])
    quota = json.loads(body)
    assert browser.find_element(By.ID, "quota-text").text.startswith(
        f"{quota['used']:,} of {quota['limit']:,} logs in {quota['period']}")
    status, _, body = request(
        "GET", f"{filled['url']}/api/v1/accounts/{ACCOUNT}/gateways/{filled['gateways'][0]}/spend", filled["token"])
    spent = json.loads(body)["rules"][0]["spent"]
    assert f"{filled['gateways'][0]} · daily: {fmt_usd(spent)} of $25.00 per day (fixed)" in browser.find_element(
        By.ID, "spend").text
    browser.save_screenshot(str(screenshots / "dashboard.png"))

    # The log explorer: a full first page, a second page, one log's detail, feedback saved through the API.
    rows = browser.find_elements(By.CSS_SELECTOR, "#logs tbody tr[data-id]")
    assert len(rows) == 50
    first_ids = [row.get_attribute("data-id") for row in rows]
    browser.find_element(By.ID, "logs-next").click()
    waiting(browser).until(
        lambda d: d.find_element(By.ID, "logs-page").text.startswith("page 2"))
    second_ids = [row.get_attribute("data-id") for row in browser.find_elements(By.CSS_SELECTOR, "#logs tbody tr[data-id]")]
    assert second_ids and not set(second_ids) & set(first_ids)
    browser.find_element(By.ID, "logs-first").click()
    waiting(browser).until(
        lambda d: d.find_element(By.ID, "logs-page").text.startswith("page 1"))

    # A filter: only failed requests.
    choose(browser, "success", "false")
    def only_failed(d) -> bool:
        cells = d.find_elements(By.CSS_SELECTOR, "#logs tbody tr[data-id] td:nth-child(5)")
        return bool(cells) and all("status-bad" in cell.get_attribute("class") for cell in cells)

    waiting(browser).until(only_failed)
    choose(browser, "success", "")
    waiting(browser).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#logs tbody tr[data-id]")) == 50)

    log_id = browser.find_element(By.CSS_SELECTOR, "#logs tbody tr[data-id]").get_attribute("data-id")
    browser.find_element(By.CSS_SELECTOR, f"#logs tbody tr[data-id='{log_id}']").click()
    waiting(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#detail-response pre"))
    assert browser.find_element(By.ID, "detail-id").text == log_id
    request_text = browser.find_element(By.CSS_SELECTOR, "#detail-request pre").text
    assert request_text.startswith("{") and "\n  " in request_text, "request JSON pretty-printed"
    browser.find_element(By.ID, "feedback-up").click()
    waiting(browser).until(
        lambda d: "active" in d.find_element(By.ID, "feedback-up").get_attribute("class"))
    status, _, body = request("GET", f"{filled['url']}/api/v1/accounts/{ACCOUNT}/logs/{log_id}", filled["token"])
    assert status == 200 and json.loads(body)["feedback"] == 1
    browser.save_screenshot(str(screenshots / "dashboard-log.png"))

    # A streamed response is shown as its events: the probe's, found by its event id.
    probe = filled["probe"]
    browser.find_element(By.CSS_SELECTOR, "#log-filters input[name=event_id]").send_keys(probe["event_id"])
    browser.find_element(By.CSS_SELECTOR, "#log-filters button[type=submit]").click()
    waiting(browser).until(
        lambda d: [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "#logs tbody tr[data-id]")]
        == [probe["id"]])
    browser.find_element(By.CSS_SELECTOR, f"#logs tbody tr[data-id='{probe['id']}']").click()
    waiting(browser).until(
        lambda d: d.find_element(By.ID, "detail-id").text == probe["id"]
        and len(d.find_elements(By.CSS_SELECTOR, "#detail-response pre.event")) >= 2)
    events = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#detail-response pre.event")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[0])["object"] == "chat.completion.chunk"
    assert "\n  " in events[0], "each event's JSON pretty-printed"
    browser.save_screenshot(str(screenshots / "dashboard-stream.png"))

    # One gateway: the totals are that gateway's.
    gateway = filled["gateways"][0]
    browser.find_element(By.CSS_SELECTOR, f"#gateway option[value='{gateway}']").click()
    waiting(browser).until(
        lambda d: f"gateway {gateway}" in d.find_element(By.ID, "range-shown").text
        and d.find_element(By.ID, "board").get_attribute("data-ready") == "true")
    shown = browser.find_element(By.ID, "range-shown")
    query = f"from={shown.get_attribute('data-from')}&to={shown.get_attribute('data-to')}&group_by=gateway"
    status, _, body = request("GET", f"{filled['url']}/api/v1/accounts/{ACCOUNT}/usage?{query}", filled["token"])
    rows = [row for row in json.loads(body)["rows"] if row["gateway"] == gateway]
    assert int(browser.find_element(By.ID, "total-requests").get_attribute("data-value")) == sum(
        row["requests"] for row in rows)

    assert console_errors(browser) == []


@pytest.mark.parametrize("browser", ["Asia/Kolkata"], indirect=True)
def test_dashboard_account_token_signs_in_through_the_form(filled, browser, tmp_path):
    browser.get(f"{filled['url']}/dashboard")
    form = waiting(browser).until(lambda d: d.find_element(By.ID, "sign-in"))
    assert form.is_displayed()
    assert not browser.find_element(By.ID, "board").is_displayed()
    browser.find_element(By.ID, "sign-in-token").send_keys(filled["account_token"])
    browser.find_element(By.ID, "sign-in-account").send_keys(ACCOUNT)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()
    wait_ready(browser)
    assert browser.find_element(By.ID, "account-fixed").text == ACCOUNT
    assert browser.find_element(By.ID, "range-shown").get_attribute("data-zone") in ("Asia/Kolkata", "Asia/Calcutta")
    check_totals(browser, api_usage(filled, browser, filled["account_token"]))
    assert "admin token" in browser.find_element(By.ID, "spend").text
    # Gateways an account token cannot list come from its usage.
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#gateway option")]
    assert set(filled["gateways"]) >= set(options[1:]) and len(options) > 1
    browser.save_screenshot(str(screenshot_dir(tmp_path) / "dashboard-account.png"))
    # Signing out forgets the token.
    browser.find_element(By.ID, "sign-out").click()
    assert browser.execute_script("return sessionStorage.getItem('tollgate.token')") is None
    assert browser.find_element(By.ID, "sign-in").is_displayed()
    assert console_errors(browser) == []
