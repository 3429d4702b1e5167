"""Async Cliniko API client: pages streamed as they arrive, one rate limit per key, bounded retries.

Usage:
    async with ClinikoClient(api_key) as client:
        async for page in client.iter_pages("patients", updated_since=watermark):
            ...  # page.records (each record's JSON as sent), page.page_number / page.total_pages,
                 # page.total_entries; page.items decodes the records

List pages are split into records without decoding them (msgspec.Raw): the engine decodes only the fields
it maps to columns and stores each record's bytes verbatim.
"""

from __future__ import annotations

import asyncio
import base64
import math
import random
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import msgspec
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from sync_core.cliniko.errors import (
    ClinikoApiError,
    ClinikoAuthError,
    ClinikoError,
    ClinikoNetworkError,
    ClinikoRateLimitedError,
)
from sync_core.cliniko.ratelimit import RateLimiter, limiter_for
from sync_core.cliniko.shard import base_url_for_shard, shard_from_key
from sync_core.config import get_settings

if TYPE_CHECKING:
    from sync_core.models import ClinikoConnection

T = TypeVar("T")
_Decode = Callable[[httpx.Response], T]  # a 200 answer's body to what the caller wants

PER_PAGE = 100
_DEFAULT_POOL = ""  # connections for requests outside a paged list
_READ = httpx.ByteStream(b"")  # what a response's stream becomes once its body is read
RESOURCES = ("patients", "individual_appointments", "appointment_types", "practitioners",
             "practitioners/inactive", "businesses")
# Cliniko hides archived and cancelled records unless a filter on that field is present.
HIDDEN_FILTERS: dict[str, tuple[str, ...]] = {
    "patients": ("archived_at:*",),
    "individual_appointments": ("archived_at:*", "cancelled_at:*"),
    "appointment_types": ("archived_at:*",),
    "businesses": ("archived_at:*",),
    "practitioners": (),
    "practitioners/inactive": (),
}
_RETRYABLE_STATUSES = {502, 503, 504}
_PAGE_PARAM_RE = re.compile(r"([?&]page=)\d+")
_MAX_RETRY_AFTER_SECONDS = 120.0


@dataclass
class Page:
    resource: str
    records: list[msgspec.Raw]  # each record's JSON, byte for byte as Cliniko sent it
    page_number: int
    total_pages: int
    total_entries: int

    @cached_property
    def items(self) -> list[Any]:
        """The records decoded to Python objects."""
        return [orjson.loads(bytes(record)) for record in self.records]


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 answers received
    throttle_wait_seconds: float = 0.0  # time spent waiting for the rate limiter (429 pauses included)


@dataclass
class ConnectionTest:
    ok: bool
    shard: str
    response_time_ms: int
    patient_count: int | None
    error_type: str | None
    message: str


@dataclass
class _RetryBudget:
    network: int
    rate_limited: int
    used: dict[str, int] = field(default_factory=lambda: {"network": 0, "rate_limited": 0})


def format_cliniko_datetime(value: datetime) -> str:
    """UTC with a `Z`, whole seconds rounded down (so a `>=` filter never skips the watermark's second)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClinikoClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        contact_email: str | None = None,
        requests_per_minute: int | None = None,
        page_concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        rate_limit: tuple[int, float] | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        """`rate_limit=(requests, window_seconds)` overrides `requests_per_minute` (e.g. (20, 6.0))."""
        settings = get_settings()
        self.api_key = api_key.strip()
        self.shard = shard_from_key(self.api_key)  # validates the suffix even when the URL is overridden
        self.base_url = (base_url or base_url_for_shard(self.shard)).rstrip("/")
        self.contact_email = contact_email or settings.contact_email
        self.page_concurrency = max(1, page_concurrency or settings.cliniko_page_concurrency)
        self.timeout = timeout or settings.cliniko_timeout_seconds
        self.max_retries = settings.cliniko_max_retries if max_retries is None else max_retries
        requests, window = rate_limit or (requests_per_minute or settings.cliniko_requests_per_minute, 60.0)
        self.limiter: RateLimiter = limiter_for(self.api_key, requests, window)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stats = ClientStats()
        self._pools: dict[str, httpx.AsyncClient] = {}

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> ClinikoClient:
        self._client(_DEFAULT_POOL)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    def _client(self, pool: str) -> httpx.AsyncClient:
        """The connections of one list (or of the other requests). httpcore checks every idle connection
        of a pool on each request, with a system call each: pools of page_concurrency connections, one
        for each list paged at once, cost a fraction of one pool holding them all."""
        http = self._pools.get(pool)
        if http is None:
            http = self._pools[pool] = httpx.AsyncClient(
                # Basic auth as a fixed header: httpx's auth flow would build it again for every request.
                headers={"Authorization": _basic_auth(self.api_key),
                         "Accept": "application/json", "User-Agent": f"Routiq ({self.contact_email})"},
                timeout=self.timeout,
                verify=_tls_context(),
                limits=httpx.Limits(max_connections=self.page_concurrency),
            )
        return http

    # -- public API --------------------------------------------------------------------------------

    async def get(self, path: str, params: Any = None) -> dict[str, Any]:
        """GET a path under the base URL (or an absolute URL) and return its JSON object."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        return await self._get_json(url, params)

    def list_params(
        self,
        resource: str,
        *,
        updated_since: datetime | None = None,
        include_hidden: bool = True,
        extra_query: list[tuple[str, str]] | None = None,
    ) -> list[tuple[str, str]]:
        if resource not in HIDDEN_FILTERS:
            raise ValueError(f"unknown Cliniko resource {resource!r}; expected one of {', '.join(RESOURCES)}")
        params: list[tuple[str, str]] = [("per_page", str(PER_PAGE))]
        if include_hidden:
            params += [("q[]", f) for f in HIDDEN_FILTERS[resource]]
        if updated_since is not None:
            since = format_cliniko_datetime(updated_since)
            params += [("q[]", f"updated_at:>={since}"), ("sort", "updated_at")]
        return params + list(extra_query or [])

    async def iter_pages(
        self,
        resource: str,
        *,
        updated_since: datetime | None = None,
        include_hidden: bool = True,
        extra_query: list[tuple[str, str]] | None = None,
    ) -> AsyncIterator[Page]:
        """Yields the pages of a list in page order as they arrive; never holds the whole list.

        Page 1 gives `total_entries`; later pages are fetched up to `page_concurrency` at a time (page
        numbers are stable for a fixed query) from page 1's `links.next`, kept verbatim but for `page`.
        """
        params = self.list_params(resource, updated_since=updated_since, include_hidden=include_hidden,
                                  extra_query=extra_query)
        decode = _list_decoder(resource.split("/", 1)[0])
        first = await self._get_json(f"{self.base_url}/{resource}", params, decode, pool=resource)
        records = first.records
        total_entries = _total_entries(first.total_entries, len(records))
        total_pages = max(1, math.ceil(total_entries / PER_PAGE))
        yield Page(resource, records, 1, total_pages, total_entries)
        next_url = _next_link(first.links)
        page_number = 1
        if next_url and self.page_concurrency > 1 and total_pages > 2 and _PAGE_PARAM_RE.search(next_url):
            # aclosing: when the caller stops early, the pages still in flight are cancelled at once.
            ahead_pages = self._fetch_ahead(next_url, range(2, total_pages + 1), decode, resource)
            async with aclosing(ahead_pages) as ahead:
                async for data in ahead:
                    if not data.records:  # records were deleted while we paged
                        return
                    page_number += 1
                    yield Page(resource, data.records, page_number, total_pages, total_entries)
                    next_url = _next_link(data.links)
        # Sequential: follow links.next verbatim (also picks up records added while we paged).
        while next_url:
            data = await self._get_json(next_url, None, decode, pool=resource)
            page_number += 1
            total_pages = max(total_pages, page_number)
            if not data.records:
                return
            yield Page(resource, data.records, page_number, total_pages, total_entries)
            next_url = _next_link(data.links)

    async def count(self, resource: str, *, include_hidden: bool = True) -> int:
        """total_entries of a list, from one request of one record."""
        params = [("per_page", "1"), *[p for p in self.list_params(resource, include_hidden=include_hidden)
                                        if p[0] != "per_page"]]
        data = await self._get_json(f"{self.base_url}/{resource}", params,
                                    _list_decoder(resource.split("/", 1)[0]))
        return _total_entries(data.total_entries, len(data.records))

    async def test_connection(self) -> ConnectionTest:
        """Whether the key works, with the response time and the patient count (archived included)."""
        started = time.perf_counter()
        try:
            patients = await self.count("patients")
        except ClinikoError as exc:
            elapsed = int((time.perf_counter() - started) * 1000)
            return ConnectionTest(False, self.shard, elapsed, None, exc.error_type, exc.message)
        elapsed = int((time.perf_counter() - started) * 1000)
        return ConnectionTest(True, self.shard, elapsed, patients, None,
                              f"Connected to Cliniko ({self.shard}).")

    # -- internals ---------------------------------------------------------------------------------

    async def _fetch_ahead(self, template: str, pages: range, decode: _Decode[T],
                           pool: str) -> AsyncIterator[T]:
        """Fetches `pages` with at most page_concurrency in flight, yielding them in order."""
        pending: deque[asyncio.Task[T]] = deque()
        numbers = iter(pages)

        def fetch(number: int) -> asyncio.Task[T]:
            url = _with_page(template, number)
            return asyncio.ensure_future(self._get_json(url, None, decode, pool=pool))

        try:
            for number in numbers:
                pending.append(fetch(number))
                if len(pending) >= self.page_concurrency:
                    break
            while pending:
                data = await pending.popleft()
                number = next(numbers, None)
                if number is not None:
                    pending.append(fetch(number))
                yield data
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _get_json(self, url: str, params: Any = None, decode: _Decode[Any] | None = None, *,
                        pool: str = _DEFAULT_POOL) -> Any:
        """GET with retries; the 200 answer decoded by `decode` (default: a JSON object as a dict)."""
        decode = decode or _json_object
        # The first attempt goes without tenacity: almost every request needs no retry, and setting up
        # the retry loop costs a tenth of a request's CPU. A failure becomes the loop's first attempt.
        try:
            return await self._send_once(url, params, decode, pool)
        except (ClinikoNetworkError, ClinikoRateLimitedError) as exc:
            first_failure: Exception | None = exc
        budget = _RetryBudget(network=self.max_retries, rate_limited=max(10, 3 * self.max_retries))
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((ClinikoNetworkError, ClinikoRateLimitedError)),
            stop=lambda state: _budget_spent(state, budget),
            wait=self._wait_strategy(),
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                return await self._send_once(url, params, decode, pool)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _wait_strategy(self) -> Callable[[RetryCallState], float]:
        backoff = wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max,
                                          jitter=self.backoff_initial)

        def wait(state: RetryCallState) -> float:
            # A 429 already paused the key's limiter until the reset: everyone waits there, not here.
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ClinikoRateLimitedError):
                return 0.0
            if isinstance(exc, ClinikoNetworkError) and exc.retry_after is not None:
                return min(exc.retry_after, _MAX_RETRY_AFTER_SECONDS)  # a 503 that says when to come back
            return backoff(state)

        return wait

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    async def _send_once(self, url: str, params: Any, decode: _Decode[T], pool: str) -> T:
        http = self._client(pool)
        async with self.limiter.slot() as waited:
            self.stats.throttle_wait_seconds += waited
            self.stats.requests += 1
            try:
                response = await http.get(url, params=params)
            except httpx.TimeoutException:
                raise ClinikoNetworkError(f"Cliniko did not answer within {self.timeout:g} seconds. "
                                          "It may be busy; try again later.") from None
            except httpx.TransportError as exc:
                raise ClinikoNetworkError(
                    f"Could not reach Cliniko ({type(exc).__name__}). Check the server's internet connection."
                ) from None
        # httpx's response and its stream point at each other, so a read page waits for the cycle
        # collector, which runs rarely while syncs run (engine/gc_tuning.py): pages piled up in memory
        # with the clinic's size. Without the stream, the page goes when its last record is parsed.
        response.stream = _READ
        if response.status_code == 200:
            return decode(response)
        if response.status_code == 429:
            self.stats.rate_limited += 1
            wait = self._rate_limit_wait(response)
            self.limiter.block_for(wait)
            raise ClinikoRateLimitedError(
                "Cliniko's rate limit was reached repeatedly (200 requests per minute per user). "
                "Wait a few minutes and try again.", status_code=429, retry_after=wait)
        raise _error_for(response)

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        """Seconds until the window resets: X-RateLimit-Reset, else Retry-After, else exponential backoff."""
        reset = response.headers.get("X-RateLimit-Reset")
        if reset:
            try:
                until_reset = float(reset) - time.time()
            except ValueError:
                until_reset = 0.0
            if until_reset > 0:  # a reset already past (clock skew) falls through to the backoff
                return until_reset + 0.05
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            try:
                return max(0.05, float(retry_after))
            except ValueError:
                try:
                    return max(0.05, parsedate_to_datetime(retry_after).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
        attempt = min(self.stats.rate_limited, 8)
        return min(self.backoff_max, self.backoff_initial * 2 ** attempt) * (1 + random.random() / 2)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _basic_auth(api_key: str) -> str:
    """Cliniko's auth: the API key as the user name, no password."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")


@cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one (loading the CA bundle) costs ~20 ms of CPU,
    which every sync and connection test would otherwise pay again."""
    return httpx.create_ssl_context()


def _budget_spent(state: RetryCallState, budget: _RetryBudget) -> bool:
    exc = state.outcome.exception() if state.outcome else None
    kind = "rate_limited" if isinstance(exc, ClinikoRateLimitedError) else "network"
    budget.used[kind] += 1
    return budget.used[kind] > getattr(budget, kind)


def _with_page(url: str, number: int) -> str:
    return _PAGE_PARAM_RE.sub(lambda m: f"{m.group(1)}{number}", url, count=1)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ClinikoApiError("Cliniko sent an answer that is not valid JSON.",
                              status_code=response.status_code) from None
    if not isinstance(data, dict):
        raise ClinikoApiError("Cliniko sent an unexpected answer (not a JSON object).",
                              status_code=response.status_code)
    return data


class _ListPage(msgspec.Struct):
    """What a list answer is decoded to: the records stay undecoded (see _list_decoder)."""

    records: list[msgspec.Raw]
    total_entries: Any = None
    links: Any = None


@cache
def _list_decoder(key: str) -> _Decode[_ListPage]:
    """Decodes a list answer whose records are under `key` ("patients", "individual_appointments", ...)."""
    page_type = msgspec.defstruct(f"{key}_list", [(key, list[msgspec.Raw]), ("total_entries", Any, None),
                                                  ("links", Any, None)])
    decoder = msgspec.json.Decoder(page_type)

    def decode(response: httpx.Response) -> _ListPage:
        try:
            data = decoder.decode(response.content)
        except msgspec.DecodeError:
            raise ClinikoApiError("Cliniko sent an answer that is not valid JSON.",
                                  status_code=response.status_code) from None
        except msgspec.ValidationError:
            raise ClinikoApiError(f"Cliniko's answer has no '{key}' list.",
                                  status_code=response.status_code) from None
        return _ListPage(getattr(data, key), data.total_entries, data.links)

    return decode


def _total_entries(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def _next_link(links: Any) -> str | None:
    nxt = links.get("next") if isinstance(links, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


def _body_message(response: httpx.Response) -> str | None:
    """Cliniko's own `message` when the body is JSON; None for HTML, plain text or empty bodies."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        errors = data.get("errors")
        if isinstance(errors, dict) and errors:
            details = "; ".join(f"{k} {v}" for k, v in errors.items())
            return f"{data['message']} ({details})"
        return data["message"]
    return None


def _error_for(response: httpx.Response) -> ClinikoError:
    status = response.status_code
    detail = _body_message(response)
    if status == 401:
        return ClinikoAuthError(
            "Cliniko API authentication failed: the API key was refused (401). Paste a current key from "
            "Cliniko (My Info → Manage API keys) in the Cliniko settings.", status_code=status)
    if status == 403:
        return ClinikoAuthError(
            "Cliniko refused access (403): the Cliniko user behind this API key lacks the permission. "
            "Use a key of a user with administrator access." + (f" Cliniko said: {detail}" if detail else ""),
            status_code=status)
    if status in _RETRYABLE_STATUSES:
        retry_after = response.headers.get("Retry-After", "")
        return ClinikoNetworkError(
            f"Cliniko is temporarily unavailable (HTTP {status}) and kept failing after several retries. "
            "Try again in a few minutes.", status_code=status,
            retry_after=float(retry_after) if retry_after.isdigit() else None)
    if status == 404:
        return ClinikoApiError(f"Cliniko does not know this address (404): {response.request.url.path}.",
                               status_code=status)
    said = f": {detail}" if detail else "."
    return ClinikoApiError(f"Cliniko refused the request (HTTP {status}){said}", status_code=status)


def client_for_connection(conn: ClinikoConnection, **overrides: Any) -> ClinikoClient:
    """A client for an organization's stored connection (decrypts the key, honours the URL override)."""
    from sync_core.accounts import cliniko_api_key

    overrides.setdefault("base_url", conn.base_url_override or None)
    return ClinikoClient(cliniko_api_key(conn), **overrides)
