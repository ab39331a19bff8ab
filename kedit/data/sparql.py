"""SPARQL SELECT through SPARQLWrapper, with retries, an on-disk cache and an embedded snapshot.

``SparqlClient(endpoint).select(query)`` returns rows ``{variable: value}`` (IRIs as full
IRIs, literals as their lexical form). Order of operations for a server endpoint:

1. unless ``refresh``, a cached result for (endpoint, query) is returned with no network;
2. otherwise the query is POSTed (``Accept`` JSON results, kedit's User-Agent, ``timeout``);
   HTTP 429, 5xx, timeouts and dropped connections are retried up to ``retries`` times,
   waiting ``Retry-After`` when the server sends it, else ``backoff * 2**attempt`` seconds;
3. a successful result is cached; if the endpoint stays unreachable, a cached result is used
   with a warning, and without one :class:`SparqlError` names the endpoint and the cause.

The endpoint ``offline`` (or ``snapshot``) runs the same text on the embedded snapshot
(:mod:`kedit.data.embedded`); its results are cached too, keyed by the snapshot's sha256 and
the engine's version as well as the query, so a repeated build neither loads the snapshot nor
queries it (``refresh`` queries it anyway). Each returned list records where it
came from in ``.source``: ``endpoint`` (the server), ``cache`` (a hit), ``cache-fallback``
(the server was unreachable) or ``embedded``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
import urllib.error
from datetime import datetime, timezone
from pathlib import Path

from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

from kedit import __version__
from kedit.data import embedded
from kedit.data.cache import QueryCache, cache_key
from kedit.data.config import WIKIDATA
from kedit.data.errors import SparqlError
from kedit.paths import cache_dir as kedit_cache_dir

log = logging.getLogger(__name__)

USER_AGENT = f"kedit/{__version__} (https://github.com/kedit/kedit)"

class SelectResult(list):
    """Rows of a SELECT, with ``source``: endpoint, cache, cache-fallback or embedded."""

    def __init__(self, rows: list[dict[str, str]], source: str):
        super().__init__(rows)
        self.source = source


class _Transient(Exception):
    """A failure worth retrying; ``retry_after`` is the server's requested wait in seconds."""

    def __init__(self, cause: str, retry_after: float | None = None):
        super().__init__(cause)
        self.retry_after = retry_after


class _Unreachable(Exception):
    """The endpoint could not be reached (or kept failing); a cached result may stand in."""


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class SparqlClient:
    """A SPARQL endpoint: a server URL, or ``offline``/``snapshot`` for the embedded snapshot.

    ``timeout``: seconds per request; ``retries``: extra attempts after a transient failure;
    ``backoff``: first wait in seconds, doubled per attempt; ``max_wait``: cap on any wait,
    Retry-After included; ``cache_dir``: result files (default ``$KEDIT_CACHE/sparql``);
    ``refresh``: query the server even when a cached result exists.
    """

    def __init__(
        self,
        endpoint: str = WIKIDATA,
        user_agent: str = USER_AGENT,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 2.0,
        cache_dir: Path | str | None = None,
        refresh: bool = False,
        max_wait: float = 300.0,
    ):
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.refresh = refresh
        self.embedded = endpoint in embedded.NAMES
        self._snapshot = embedded.EmbeddedEndpoint() if self.embedded else None
        self._cache_dir = cache_dir
        self._cache: QueryCache | None = None

    @property
    def cache(self) -> QueryCache:
        if self._cache is None:
            self._cache = QueryCache(self._cache_dir or kedit_cache_dir() / "sparql")
        return self._cache

    def provenance(self) -> dict:
        """Where results come from: endpoint, whether embedded, and the snapshot's sha256 if so."""
        info = {"endpoint": self.endpoint, "embedded": self.embedded}
        if self._snapshot is not None:
            info["snapshot"] = self._snapshot.path.name
            info["snapshot_sha256"] = self._snapshot.fingerprint
        return info

    def select(self, query: str) -> SelectResult:
        """Rows of a SELECT query; see the module docstring for retries, cache and fallbacks."""
        name = self._snapshot.cache_name if self._snapshot is not None else self.endpoint
        key = cache_key(name, query)
        cached = None if self.refresh else self.cache.get(key)
        if self._snapshot is not None:
            if cached is None:
                cached = self._snapshot.select(query)
                self.cache.put(key, name, query, cached)
            return SelectResult(cached, "embedded")
        if cached is not None:
            return SelectResult(cached, "cache")
        try:
            rows = self._fetch_with_retries(query)
        except _Unreachable as err:
            cached = self.cache.get(key)
            if cached is None:
                raise SparqlError(
                    f"SPARQL endpoint {self.endpoint} is unreachable ({err}) and no cached result "
                    f"exists for this query in {self.cache.directory}"
                ) from err
            log.warning("SPARQL endpoint %s is unreachable (%s); using the cached result %s",
                        self.endpoint, err, self.cache.path(key))
            return SelectResult(cached, "cache-fallback")
        self.cache.put(key, self.endpoint, query, rows)
        return SelectResult(rows, "endpoint")

    def _fetch_with_retries(self, query: str) -> list[dict[str, str]]:
        attempt = 0
        while True:
            try:
                return self._fetch(query)
            except _Transient as err:
                if attempt == self.retries:
                    raise _Unreachable(f"{err}; gave up after {attempt + 1} attempts") from err
                wait = err.retry_after if err.retry_after is not None else self.backoff * 2**attempt
                wait = min(wait, self.max_wait)
                log.warning("SPARQL endpoint %s: %s; retrying in %.2f s (attempt %d of %d)",
                            self.endpoint, err, wait, attempt + 2, self.retries + 1)
                time.sleep(wait)
                attempt += 1

    def _fetch(self, query: str) -> list[dict[str, str]]:
        """One request; classifies failures as transient, unreachable or fatal (SparqlError)."""
        wrapper = SPARQLWrapper(self.endpoint, agent=self.user_agent)
        wrapper.setQuery(query)
        wrapper.setMethod(POST)
        wrapper.setReturnFormat(JSON)
        wrapper.setOnlyConneg(True)
        wrapper.timeout = self.timeout  # setTimeout() truncates to int seconds
        try:
            payload = wrapper.query().convert()
        except urllib.error.HTTPError as err:
            if err.code == 429 or err.code >= 500:
                raise _Transient(f"HTTP {err.code} {err.reason}", _retry_after(err.headers.get("Retry-After"))) from err
            raise SparqlError(f"SPARQL endpoint {self.endpoint} answered HTTP {err.code} {err.reason}") from err
        except EndPointInternalError as err:
            raise _Transient("HTTP 500 internal server error") from err
        except SPARQLWrapperException as err:
            raise SparqlError(f"SPARQL endpoint {self.endpoint} rejected the query: {err}") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):  # socket.timeout is TimeoutError since 3.10
                raise _Transient(f"timed out after {self.timeout} s") from err
            raise _Unreachable(str(err.reason)) from err
        except TimeoutError as err:
            raise _Transient(f"timed out after {self.timeout} s") from err
        except (ConnectionError, json.JSONDecodeError) as err:
            raise _Transient(f"{type(err).__name__}: {err}") from err
        if not isinstance(payload, dict) or "results" not in payload:
            raise _Transient("the response is not SPARQL JSON results")
        return [{name: cell["value"] for name, cell in binding.items()} for binding in payload["results"]["bindings"]]
