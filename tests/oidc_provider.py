"""A real OpenID Connect provider on 127.0.0.1 for the sign-in tests (oidc-provider-mock).

oidc-provider-mock is a Flask app built on Authlib's server: discovery document, JWKS,
authorization-code flow with RS256-signed ID tokens, userinfo and end-session, like an
organisation's Keycloak or Entra ID. Its authorization page lets the test type the
subject to sign in as; a subject never seen before gets ``{"email": <subject>}`` as its
claims, and ``PUT /users/<sub>`` sets any claims first.

Its pages load a stylesheet from a CDN; :func:`running_provider` serves copies of its
templates without it, so a browser test sees no request leave 127.0.0.1.

Run as a script (``python tests/oidc_provider.py PORT TEMPLATES``) it serves on
``127.0.0.1:PORT`` until killed; :func:`running_provider` starts and stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_templates(target: Path) -> Path:
    """Copy the provider's templates into ``target`` without any off-host ``<link>``."""
    import importlib.util

    spec = importlib.util.find_spec("oidc_provider_mock")
    assert spec is not None and spec.origin is not None, "pip install oidc-provider-mock"
    source = Path(spec.origin).parent / "templates"
    shutil.copytree(source, target, dirs_exist_ok=True)
    for page in target.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        page.write_text(re.sub(r"<link[^>]*https?://[^>]*>", "", text), encoding="utf-8")
    return target


def set_claims(base_url: str, sub: str, claims: dict[str, object]) -> None:
    """Give the provider's user ``sub`` these claims (``PUT /users/<sub>``)."""
    request = urllib.request.Request(
        f"{base_url}/users/{sub}",
        data=json.dumps(claims).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


@contextmanager
def running_provider(workdir: Path, log: Path) -> Iterator[str]:
    """Start the provider on a free 127.0.0.1 port; yield its base URL; stop it."""
    templates = local_templates(workdir / "templates")
    port = free_port()
    env = dict(os.environ, AUTHLIB_INSECURE_TRANSPORT="1")  # plain http, loopback only
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, str(port), str(templates)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(
                        f"{url}/.well-known/openid-configuration", timeout=2
                    ) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the OIDC provider did not start; see {log}") from None
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str]) -> None:
    """Serve the provider on 127.0.0.1:``argv[0]`` with the templates in ``argv[1]``."""
    import secrets
    import warnings

    import flask
    import werkzeug.serving

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Authlib's deprecations, raised at import
        import oidc_provider_mock

    port, templates = int(argv[0]), argv[1]
    app = flask.Flask("oidc_provider_mock", template_folder=templates)
    oidc_provider_mock.init_app(app, require_nonce=True)
    app.secret_key = secrets.token_bytes(16)
    server = werkzeug.serving.make_server("127.0.0.1", port, app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
