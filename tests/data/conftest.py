"""Fixtures of the data tests: a real SPARQL server on loopback, and a misbehaving proxy in front of it.

``oxigraph_server`` loads the shipped snapshot into an on-disk oxigraph store and runs
``oxigraph serve-read-only`` on 127.0.0.1 with a free port, once per session. If the
``oxigraph`` binary (PyPI package ``oxigraph``) is missing, the tests that need it fail with
a message saying so; nothing is skipped. ``misbehaving`` starts an HTTP server on 127.0.0.1
that answers its first requests from a script (an HTTP status, or a stall) and forwards the
rest to the oxigraph server, recording every request's headers.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kedit.data.embedded import SNAPSHOT
from kedit.data.sparql import SparqlClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(found).exists():
        pytest.fail("the `oxigraph` binary is missing: install the test extra (`pip install oxigraph`); "
                    "the data tests need a real SPARQL server on loopback")
    return found


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> str:
    """URL of a read-only oxigraph SPARQL endpoint on 127.0.0.1 holding the snapshot."""
    binary = _oxigraph_binary()
    db = tmp_path_factory.mktemp("oxigraph-db")
    subprocess.run([binary, "load", "--location", str(db), "--file", str(SNAPSHOT)], check=True, capture_output=True)
    port = free_port()
    log = open(db.parent / "oxigraph-serve.log", "wb")
    proc = subprocess.Popen([binary, "serve-read-only", "--location", str(db), "--bind", f"127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/query"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"oxigraph serve did not start on 127.0.0.1:{port}; see {log.name}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


class Misbehaving:
    """A loopback HTTP server: the first requests get ``script``'s answers, later ones are proxied.

    Script items: ``(status, headers)`` answers with that status; ``("stall", seconds)``
    waits that long before proxying (a client with a shorter timeout gives up first).
    """

    def __init__(self, upstream: str, script: list[tuple]):
        self.upstream = upstream
        self.script = list(script)
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with owner._lock:
                    owner.requests.append(dict(self.headers))
                    action = owner.script.pop(0) if owner.script else None
                if action is not None and action[0] == "stall":
                    time.sleep(action[1])
                elif action is not None:
                    status, headers = action
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                forward = urllib.request.Request(owner.upstream, data=body, method="POST", headers={
                    "Content-Type": self.headers["Content-Type"], "Accept": self.headers["Accept"]})
                try:
                    response = urllib.request.urlopen(forward, timeout=30)
                except urllib.error.HTTPError as err:  # relay the server's own errors (400 for a bad query)
                    response = err
                with response:
                    payload = response.read()
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.headers["Content-Type"] or "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/query"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def misbehaving(oxigraph_server):
    """Factory: ``misbehaving(script)`` → a running :class:`Misbehaving` (closed after the test)."""
    started = []

    def make(script: list[tuple] = ()) -> Misbehaving:
        server = Misbehaving(oxigraph_server, list(script))
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def offline_client() -> SparqlClient:
    """The embedded snapshot endpoint, loaded once per session."""
    return SparqlClient("offline")


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/query"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Keep every test's SPARQL cache (default location $KEDIT_CACHE/sparql) out of the user's home."""
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "kedit-cache"))
