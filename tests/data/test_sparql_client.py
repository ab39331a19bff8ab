"""SparqlClient against a real loopback SPARQL server: retries, timeouts, unreachable
endpoints, and the on-disk cache (fallback, corruption)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from kedit.data import queries
from kedit.data.cache import cache_key
from kedit.data.errors import SparqlError
from kedit.data.sparql import USER_AGENT, SparqlClient

QUERY = queries.relation_facts("P22")  # complete (no LIMIT reached), so the rows do not depend on store order


def client(url, tmp_path, **kw) -> SparqlClient:
    kw = {"timeout": 5, "retries": 3, "backoff": 0.01, "cache_dir": tmp_path / "cache", **kw}
    return SparqlClient(url, **kw)


def _sorted(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def test_server_and_embedded_snapshot_agree(oxigraph_server, offline_client, tmp_path):
    served = client(oxigraph_server, tmp_path).select(QUERY)
    embedded = offline_client.select(QUERY)
    assert served.source == "endpoint" and embedded.source == "embedded"
    assert len(served) > 50 and _sorted(served) == _sorted(embedded)
    assert offline_client.provenance()["embedded"] is True and len(offline_client.provenance()["snapshot_sha256"]) == 64


def test_embedded_results_are_cached_by_snapshot_content(tmp_path, caplog, monkeypatch):
    """A repeated query on the embedded snapshot neither loads nor queries it; the key holds the
    snapshot's sha256 (another file content, another key); refresh and a corrupt file query again."""
    from kedit.data.embedded import SNAPSHOT, EmbeddedEndpoint

    queries_run = []  # queries that reached a snapshot (its store is loaded on the first)
    select = EmbeddedEndpoint.select
    monkeypatch.setattr(EmbeddedEndpoint, "select", lambda self, query: queries_run.append(query) or select(self, query))

    def fresh(**kw):
        return SparqlClient("offline", cache_dir=tmp_path / "cache", **kw)

    first = fresh().select(QUERY)
    assert len(queries_run) == 1
    warm = fresh()
    again = warm.select(QUERY)
    assert again.source == "embedded" and list(again) == list(first) and len(first) > 50
    assert len(queries_run) == 1  # answered from the cache: the snapshot was neither queried nor loaded
    refreshed = fresh(refresh=True)
    assert list(refreshed.select(QUERY)) == list(first) and len(queries_run) == 2
    other = tmp_path / "other.ttl"
    other.write_bytes(SNAPSHOT.read_bytes() + b"\n")
    assert EmbeddedEndpoint(other).cache_name != EmbeddedEndpoint().cache_name
    (file,) = (tmp_path / "cache").glob("*.json")
    file.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        rebuilt = fresh()
        assert list(rebuilt.select(QUERY)) == list(first) and len(queries_run) == 3
    assert any("corrupt SPARQL cache file" in r.message for r in caplog.records)


def test_user_agent_and_post(misbehaving, tmp_path):
    proxy = misbehaving()
    client(proxy.url, tmp_path).select(QUERY)
    (request,) = proxy.requests
    assert request["User-Agent"] == USER_AGENT and USER_AGENT.startswith("kedit/")
    assert "sparql-results+json" in request["Accept"]


def test_unreachable_without_cache_names_endpoint_and_cause(closed_url, tmp_path):
    with pytest.raises(SparqlError) as err:
        client(closed_url, tmp_path).select(QUERY)
    message = str(err.value)
    assert closed_url in message and "refused" in message.lower() and "no cached result" in message


def test_cached_result_needs_no_network(misbehaving, tmp_path):
    proxy = misbehaving()
    first = client(proxy.url, tmp_path).select(QUERY)
    proxy.close()  # the port is now closed
    again = client(proxy.url, tmp_path).select(QUERY)
    assert again.source == "cache" and list(again) == list(first)


def test_unreachable_with_cache_uses_it_and_warns(misbehaving, tmp_path, caplog):
    proxy = misbehaving()
    first = client(proxy.url, tmp_path).select(QUERY)
    proxy.close()
    with caplog.at_level(logging.WARNING, logger="kedit.data.sparql"):
        fallback = client(proxy.url, tmp_path, refresh=True).select(QUERY)
    assert fallback.source == "cache-fallback" and list(fallback) == list(first)
    assert any("unreachable" in r.message and proxy.url in r.message for r in caplog.records)


def test_429_is_retried_after_retry_after(misbehaving, tmp_path):
    proxy = misbehaving([(429, {"Retry-After": "1"})])
    start = time.monotonic()
    rows = client(proxy.url, tmp_path).select(QUERY)
    elapsed = time.monotonic() - start
    assert len(proxy.requests) == 2 and rows.source == "endpoint" and len(rows) > 50
    assert elapsed >= 1.0, "Retry-After: 1 was not honoured (backoff alone is 0.01 s)"


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried(misbehaving, tmp_path, status):
    proxy = misbehaving([(status, {}), (status, {})])
    rows = client(proxy.url, tmp_path).select(QUERY)
    assert len(proxy.requests) == 3 and len(rows) > 50


def test_timeout_is_retried(misbehaving, tmp_path):
    proxy = misbehaving([("stall", 1.5)])
    rows = client(proxy.url, tmp_path, timeout=0.5).select(QUERY)
    assert len(proxy.requests) == 2 and len(rows) > 50


def test_retries_run_out(misbehaving, tmp_path):
    proxy = misbehaving([(429, {})] * 3)
    with pytest.raises(SparqlError) as err:
        client(proxy.url, tmp_path, retries=2).select(QUERY)
    assert len(proxy.requests) == 3 and "HTTP 429" in str(err.value) and proxy.url in str(err.value)


def test_bad_query_is_not_retried(misbehaving, tmp_path):
    proxy = misbehaving()
    with pytest.raises(SparqlError, match="rejected the query"):
        client(proxy.url, tmp_path).select("SELECT WHERE { this is not sparql")
    assert len(proxy.requests) == 1


CORRUPTIONS = {
    "truncated JSON": lambda text, key: text[: len(text) // 2],
    "wrong key": lambda text, key: text.replace(key, "0" * 64),
    "rows not a list": lambda text, key: json.dumps({**json.loads(text), "rows": {"a": 1}}),
    # well-formed, same key, one value changed: only the checksum tells
    "altered rows": lambda text, key: json.dumps({**(e := json.loads(text)), "rows": [{**e["rows"][0], "object": "http://example.org/x"}] + e["rows"][1:]}),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_cache_is_reported_deleted_and_rebuilt(misbehaving, tmp_path, caplog, corrupt):
    proxy = misbehaving()
    c = client(proxy.url, tmp_path)
    first = c.select(QUERY)
    key = cache_key(proxy.url, QUERY)
    path = c.cache.path(key)
    path.write_text(corrupt(path.read_text(), key))
    with caplog.at_level(logging.WARNING, logger="kedit.data.cache"):
        again = c.select(QUERY)
    assert any("corrupt SPARQL cache file" in r.message and str(path) in r.message for r in caplog.records)
    assert again.source == "endpoint" and list(again) == list(first) and len(proxy.requests) == 2
    assert json.loads(path.read_text())["key"] == key  # rebuilt


def test_cache_writes_are_atomic_and_keyed(misbehaving, tmp_path):
    proxy = misbehaving()
    c = client(proxy.url, tmp_path)
    c.select(QUERY)
    files = sorted(p.name for p in c.cache.directory.iterdir())
    assert files == [f"{cache_key(proxy.url, QUERY)}.json"]  # no temporary file left behind


def test_a_cache_file_from_before_checksums_is_used_and_upgraded(misbehaving, tmp_path, caplog):
    """A server's old answer may not be fetchable again: a well-formed file without a checksum is kept."""
    proxy = misbehaving()
    c = client(proxy.url, tmp_path)
    first = c.select(QUERY)
    path = c.cache.path(cache_key(proxy.url, QUERY))
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in entry.items() if k != "sha256"}))
    with caplog.at_level(logging.INFO, logger="kedit.data.cache"):
        again = c.select(QUERY)
    assert again.source == "cache" and list(again) == list(first) and len(proxy.requests) == 1
    assert "predates checksums" in caplog.text and json.loads(path.read_text())["sha256"] == entry["sha256"]


def test_a_cache_that_cannot_be_written_is_reported_and_the_rows_used(misbehaving, tmp_path, caplog, monkeypatch):
    import errno

    import kedit.util

    def full(tmp, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kedit.util, "_commit", full)
    proxy = misbehaving()
    with caplog.at_level(logging.WARNING, logger="kedit.data.cache"):
        rows = client(proxy.url, tmp_path).select(QUERY)
    assert rows.source == "endpoint" and len(rows) > 50
    assert "cannot write the SPARQL cache file" in caplog.text and "No space left" in caplog.text
