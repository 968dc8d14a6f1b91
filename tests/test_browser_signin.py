"""Sign-in end to end: headless Chromium, the app, and a real OpenID Connect provider.

The provider (oidc-provider-mock, :mod:`oidc_provider`) runs on 127.0.0.1 and issues
RS256-signed ID tokens through the authorization-code flow; the app is started with a
temporary ``secrets.toml`` (``--secrets.files``, never in the repository) whose
``[auth]`` points at it. What it proves: a viewer signs in and is denied upload, an
analyst's upload is stored under his e-mail, signing out ends the session (the login
button again, also after a reload), and no request leaves 127.0.0.1. Also: the app
without ``[auth]`` refuses to serve when an address that is not loopback is given, and
says why in the server log.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from oidc_provider import free_port, running_provider, set_claims

import layers
from geo import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="chromium is not installed (CI installs it: .ci/run)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("oidc_provider_mock") is None and not os.environ.get("CI"),
        reason="oidc-provider-mock is not installed (requirements-dev.txt)",
    ),
]

USERS = {
    "vic": {"email": "vic@example.org", "email_verified": True, "name": "Vic Viewer"},
    "ana": {"email": "ana@example.org", "email_verified": True, "name": "Ana Analyst"},
}


@contextmanager
def _streamlit(port: int, env: dict[str, str], log: Path, *extra: str) -> Iterator[str]:
    """Run the app on 127.0.0.1:``port``; yield its URL once healthy; stop it."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false", *extra,
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"streamlit did not start; see {log}")
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """The provider, a store where ana is an analyst, and the app signed in through both."""
    from geo.ingest import open_seeded_store

    work = tmp_path_factory.mktemp("signin")
    store_path = work / "store" / "incidents.gpkg"
    before = os.environ.get(settings.STORE_ENV_VAR)
    os.environ[settings.STORE_ENV_VAR] = str(store_path)  # seed it as the app would
    try:
        open_seeded_store().grant("ana@example.org", "analyst")
    finally:
        if before is None:
            del os.environ[settings.STORE_ENV_VAR]
        else:
            os.environ[settings.STORE_ENV_VAR] = before
    with running_provider(work, work / "provider.log") as provider:
        for sub, claims in USERS.items():
            set_claims(provider, sub, claims)
        port = free_port()
        secrets_toml = work / "secrets.toml"
        secrets_toml.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "border-monitor"\n'
            f'client_secret = "{secrets.token_urlsafe(16)}"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        )
        env = dict(os.environ, **{settings.STORE_ENV_VAR: str(store_path)})
        log = work / "streamlit.log"
        with _streamlit(port, env, log, "--secrets.files", str(secrets_toml)) as url:
            yield {"url": url, "store": store_path, "provider": provider, "log": log}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _sign_in(page, url: str, sub: str) -> None:
    """Sign in as ``sub`` at the provider's authorization page."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("Signed in as").wait_for(timeout=60_000)


def _sign_out(page, url: str) -> None:
    """Sign out; confirm at the provider's end-session page; see the login button again."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click(timeout=60_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    page.goto(url)  # a new page load: the identity cookie is gone too
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert not page.get_by_text("Signed in as").count()


def _upload_file(tmp_path: Path) -> Path:
    point = layers.load_border_line().interpolate(0.3, normalized=True)
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"E2E-{i}", "date": "2025-07-01", "type": "seizure",
                           "description": "fuel", "source": "browser test"},
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        }
        for i in range(2)
    ]  # fmt: skip
    path = tmp_path / "analyst.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _outside(requests: list[str]) -> list[str]:
    return [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip


def test_sign_in_roles_attribution_and_sign_out(team, browser, tmp_path):
    from geo.store import open_store

    url = team["url"]
    requests: list[str] = []

    # A viewer: signed in, shown the map, but no uploader and told why.
    viewer = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = viewer.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert not page.get_by_role("tab", name="Upload").count()  # nothing before sign-in
    _sign_in(page, url, "vic")
    page.get_by_text("Role: viewer").wait_for()
    page.get_by_role("tab", name="Upload").click()
    page.get_by_text("uploading incidents needs the analyst role").wait_for()
    assert page.locator("input[type=file]").count() == 0
    _sign_out(page, url)
    viewer.close()

    # An analyst: uploads, commits; the batch is stored under his e-mail.
    analyst = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = analyst.new_page()
    page.on("request", lambda r: requests.append(r.url))
    _sign_in(page, url, "ana")
    page.get_by_text("Role: analyst").wait_for()
    page.get_by_role("tab", name="Upload").click()
    page.locator("input[type=file]").set_input_files(str(_upload_file(tmp_path)))
    commit = page.get_by_role("button", name="Commit 2 valid incident(s)")
    commit.wait_for(timeout=60_000)
    commit.click()
    page.get_by_text("Stored 2 incident(s)").wait_for(timeout=60_000)
    batches = open_store(team["store"]).batches()
    assert batches["ingested_by"].iloc[-1] == "ana@example.org"
    assert batches["source_file"].iloc[-1] == "analyst.geojson"
    _sign_out(page, url)
    assert not [c for c in analyst.cookies() if c["name"].startswith("_streamlit_user")]
    analyst.close()

    provider = urlsplit(team["provider"])
    assert any(urlsplit(u).port == provider.port for u in requests)  # the real provider
    assert _outside(requests) == []


def test_without_auth_a_non_loopback_address_is_refused_and_logged(browser, tmp_path):
    # Bound to 127.0.0.1 by the flag, so nothing is exposed during the test; the app also
    # checks $STREAMLIT_SERVER_ADDRESS, which says every interface.
    env = dict(os.environ, STREAMLIT_SERVER_ADDRESS="0.0.0.0")
    env[settings.STORE_ENV_VAR] = str(tmp_path / "store" / "incidents.gpkg")
    log = tmp_path / "streamlit.log"
    secrets_toml = tmp_path / "no-secrets.toml"  # no [auth], whatever ~/.streamlit holds
    secrets_toml.write_text("")
    with _streamlit(free_port(), env, log, "--secrets.files", str(secrets_toml)) as url:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.get_by_text("The app refuses to start").wait_for(timeout=60_000)
        assert not page.get_by_role("tab", name="Upload").count()
        page.close()
    text = log.read_text()
    assert "border monitor refuses to serve" in text and "STREAMLIT_SERVER_ADDRESS" in text
    assert f"URL: {url}" in text  # the server itself listened on loopback only
    assert _outside(requests) == []
