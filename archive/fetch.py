"""Fetching a media file from a provider's host without letting it reach inside our network.

A media URL comes from a provider's answer, so it is untrusted: it may name a private,
loopback or link-local address, a host whose DNS answers one address to the check and
another to the connection (rebinding), or redirect to such a place. So:

- the host is resolved once, here; every address must be public (IPv4-mapped IPv6 is judged
  by the IPv4 inside), and the connection goes to that very address (TLS still checks the
  certificate against the host name, sent as SNI);
- redirects are followed by hand, each target checked the same way (at most MAX_REDIRECTS);
- https only, except for hosts named in ARCHIVE_ALLOWED_HOSTS (the simulator) or in DEBUG;
- no credentials: no header but Host, User-Agent and Accept is ever sent;
- the body is read a socket read at a time (urllib3's read1), so one slow byte after another
  ("dripping") cannot hold a worker past the deadline, and a host that says nothing times out.

Why urllib3 by hand rather than requests or a wrapper like advocate: pinning the address while
keeping SNI and certificate checks on the name needs a connection pool built for one address
(`server_hostname`, `assert_hostname`), which requests does not expose, and advocate has not
been released since 2020.
"""

import ipaddress
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings

MAX_REDIRECTS = 5
CHUNK = 256 * 1024
USER_AGENT = "Genboard-archive/1.0"


class FetchError(Exception):
    """A file that could not be fetched. `permanent`: trying again will not help; `gone`:
    the provider no longer has it (404/410)."""

    def __init__(self, message: str, *, permanent: bool = False, gone: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent or gone
        self.gone = gone


def allowed_hosts() -> set[str]:
    """host:port pairs that may be private (the simulator): ARCHIVE_ALLOWED_HOSTS."""
    return {h.strip().lower() for h in getattr(settings, "ARCHIVE_ALLOWED_HOSTS", []) if h.strip()}


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (tests replace this with a stub resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(f"Cannot resolve {host}: {e}") from e
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public(address: str) -> bool:
    """Only globally routable unicast addresses: no private, loopback, link-local, shared,
    reserved, multicast or unspecified ones, however they are written."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: an IPv4 address in disguise
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    address: str  # the pinned IP

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def host_key(url: str) -> str:
    """host:port of a URL, as ARCHIVE_ALLOWED_HOSTS and the per-host limit name it."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def check_url(url: str) -> Target:
    """Where a URL may be fetched from, with the address to connect to; FetchError if nowhere."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(f"Not a usable URL: {e}", permanent=True) from e
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError("Not an http(s) URL.", permanent=True)
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are not fetched.", permanent=True)
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = f"{host}:{port}" in allowed_hosts()
    if parts.scheme == "http" and not (allowed or settings.DEBUG):
        raise FetchError("Only https URLs are fetched.", permanent=True)
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"{host} has no address.")
    if not allowed:
        blocked = [a for a in addresses if not is_public(a)]
        if blocked:
            raise FetchError(f"{host} resolves to a non-public address ({blocked[0]}): not fetched.", permanent=True)
    return Target(parts.scheme, host, port, addresses[0])


def _pool(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)


class Download:
    """An open answer: `content_type`, `length` (None when not sent) and `chunks()`."""

    def __init__(self, response: urllib3.BaseHTTPResponse, pool, deadline: float, url: str):
        self.response = response
        self.pool = pool
        self.deadline = deadline
        self.url = url
        self.content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        length = response.headers.get("Content-Length", "")
        self.length = int(length) if length.isdigit() else None

    def chunks(self) -> Iterator[bytes]:
        """The body, a socket read at a time; FetchError past the deadline or on a cut."""
        try:
            while True:
                if time.monotonic() > self.deadline:
                    raise FetchError("The media host is too slow: gave up at the deadline.")
                chunk = self.response.read1(CHUNK)
                if not chunk:
                    return
                yield chunk
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise FetchError(f"Download interrupted: {type(e).__name__}") from e

    def close(self) -> None:
        self.response.release_conn()
        self.response.close()
        self.pool.close()


def open_url(url: str, *, accept: str = "*/*") -> Download:
    """GET a media URL safely (see the module doc); raises FetchError."""
    connect = float(getattr(settings, "ARCHIVE_CONNECT_TIMEOUT", 10))
    read = float(getattr(settings, "ARCHIVE_READ_TIMEOUT", 30))
    deadline = time.monotonic() + float(getattr(settings, "ARCHIVE_FETCH_DEADLINE", 900))
    timeout = urllib3.Timeout(connect=connect, read=read)
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        pool = _pool(target, timeout)
        headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": accept}
        try:
            response = pool.urlopen(
                "GET", path, headers=headers, redirect=False, preload_content=False, assert_same_host=False
            )
        except urllib3.exceptions.HTTPError as e:
            pool.close()
            reason = getattr(e, "reason", None) or e
            raise FetchError(f"Could not reach {target.host}: {type(reason).__name__}") from e
        status = response.status
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", "")
            response.release_conn()
            pool.close()
            if not location:
                raise FetchError(f"{target.host} redirected nowhere.", permanent=True)
            url = urljoin(url, location)
            continue
        if status == 200:
            return Download(response, pool, deadline, url)
        response.release_conn()
        pool.close()
        if status in (404, 410):
            raise FetchError(f"The provider no longer has this file (HTTP {status}).", gone=True)
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise FetchError(f"The media host answered HTTP {status}.", permanent=permanent)
    raise FetchError(f"More than {MAX_REDIRECTS} redirects.", permanent=True)
