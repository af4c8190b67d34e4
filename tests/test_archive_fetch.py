"""archive.fetch: the archive reaches public hosts only, pinned to the address it checked, and
never sends a credential. Nothing here connects anywhere but loopback: where a public address
would be dialled, the connection is caught first."""

import pytest
import urllib3

from archive import fetch


@pytest.fixture
def stub_dns(monkeypatch):
    """A resolver stub: `stub_dns["media.example"] = ["1.2.3.4"]`, or a list of answers to
    give in turn (rebinding); every lookup is recorded in `.calls`."""

    class Stub(dict):
        calls: list[str] = []

    stub = Stub()
    stub.calls = []

    def resolve(host, port):
        stub.calls.append(host)
        answer = stub[host]
        if answer and isinstance(answer[0], list):  # a sequence of answers
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer

    monkeypatch.setattr(fetch, "resolve", resolve)
    return stub


@pytest.fixture
def dialled(monkeypatch):
    """Addresses a connection was attempted to; the attempt itself fails (nothing leaves)."""
    seen: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        seen.append(address)
        raise ConnectionRefusedError("test: no outside connections")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return seen


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.9.10",
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "not an address",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not fetch.is_public(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert fetch.is_public(address)


@pytest.mark.parametrize(
    "answer", [["10.0.0.5"], ["127.0.0.1"], ["169.254.169.254"], ["::ffff:127.0.0.1"], ["93.184.216.34", "10.1.1.1"]]
)
def test_a_name_resolving_to_a_private_address_is_never_dialled(stub_dns, dialled, answer):
    stub_dns["media.example"] = answer
    with pytest.raises(fetch.FetchError) as caught:
        fetch.open_url("https://media.example/a.mp3")
    assert caught.value.permanent and "non-public" in caught.value.message
    assert dialled == []


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/a.mp3", "https://[::1]/a.mp3", "https://169.254.169.254/latest", "https://10.0.0.1/x"]
)
def test_literal_private_addresses_are_refused(dialled, url):
    with pytest.raises(fetch.FetchError):
        fetch.open_url(url)
    assert dialled == []


def test_dns_rebinding_cannot_switch_the_address(stub_dns, dialled):
    """The first answer is public, every later one loopback: we resolve once and connect to
    the address we checked, so the second answer is never used."""
    stub_dns["rebind.example"] = [["93.184.216.34"], ["127.0.0.1"]]
    with pytest.raises(fetch.FetchError):
        fetch.open_url("https://rebind.example/a.mp3")
    assert stub_dns.calls == ["rebind.example"]
    assert dialled == [("93.184.216.34", 443)]


def test_https_only_in_production(settings, stub_dns, dialled):
    settings.DEBUG = False
    stub_dns["media.example"] = ["93.184.216.34"]
    with pytest.raises(fetch.FetchError, match="Only https"):
        fetch.open_url("http://media.example/a.mp3")
    assert dialled == []


def test_loopback_is_refused_unless_named_in_archive_allowed_hosts(settings, media_host):
    settings.DEBUG = True  # plain http allowed: the address is what refuses
    url = media_host.serve("/a.wav", b"RIFF")
    settings.ARCHIVE_ALLOWED_HOSTS = []
    with pytest.raises(fetch.FetchError, match="non-public"):
        fetch.open_url(url)
    assert media_host.requests == []
    settings.ARCHIVE_ALLOWED_HOSTS = [f"127.0.0.1:{media_host.port}"]
    download = fetch.open_url(url)
    assert b"".join(download.chunks()) == b"RIFF"
    download.close()


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.1/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/a.wav",
        "http://127.0.0.1:1/elsewhere",  # loopback, but not the allowed port
        "http://localhost:{port}/a.wav",  # the allowed address under another name
    ],
)
def test_redirects_to_private_addresses_are_refused(settings, media_host, location):
    settings.DEBUG = True  # plain http allowed: the address is what refuses
    start = media_host.redirect("/start", location.format(port=media_host.port))
    media_host.serve("/a.wav", b"RIFF")
    with pytest.raises(fetch.FetchError) as caught:
        fetch.open_url(start)
    assert caught.value.permanent and "non-public" in caught.value.message
    assert [path for path, _ in media_host.requests] == ["/start"]


def test_redirects_are_followed_and_rechecked(media_host):
    media_host.serve("/final.wav", b"RIFF....")
    media_host.redirect("/two", "/final.wav")
    start = media_host.redirect("/one", media_host.url("/two"))
    download = fetch.open_url(start)
    assert b"".join(download.chunks()) == b"RIFF...."
    download.close()
    assert [path for path, _ in media_host.requests] == ["/one", "/two", "/final.wav"]


def test_too_many_redirects(media_host):
    for n in range(fetch.MAX_REDIRECTS + 2):
        media_host.redirect(f"/r{n}", f"/r{n + 1}")
    with pytest.raises(fetch.FetchError, match="redirects"):
        fetch.open_url(media_host.url("/r0"))


def test_no_credential_ever_reaches_a_media_host(media_host):
    url = media_host.serve("/a.wav", b"RIFF")
    download = fetch.open_url(url, accept="audio/*")
    download.close()
    ((_, headers),) = media_host.requests
    names = {name.lower() for name in headers}
    assert names <= {"host", "user-agent", "accept", "accept-encoding"}
    assert headers["Accept"] == "audio/*"


def test_not_found_is_gone_and_server_errors_are_retried(media_host):
    with pytest.raises(fetch.FetchError) as caught:
        fetch.open_url(media_host.url("/missing.mp3"))
    assert caught.value.gone and caught.value.permanent

    def boom(h):
        h.send_response(503)
        h.send_header("Content-Length", "0")
        h.end_headers()

    media_host.routes["/busy"] = boom
    with pytest.raises(fetch.FetchError) as caught:
        fetch.open_url(media_host.url("/busy"))
    assert not caught.value.permanent and "503" in caught.value.message


def test_a_dripping_host_is_cut_off_at_the_deadline(settings, media_host):
    import time

    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "audio/wav")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)

    media_host.routes["/drip.wav"] = drip
    settings.ARCHIVE_FETCH_DEADLINE = 0.5
    download = fetch.open_url(media_host.url("/drip.wav"))
    started = time.monotonic()
    with pytest.raises(fetch.FetchError, match="too slow"):
        b"".join(download.chunks())
    assert time.monotonic() - started < 3
    download.close()


def test_a_host_that_hangs_times_out(settings, media_host):
    import threading

    release = threading.Event()

    def hang(h):
        release.wait(5)

    media_host.routes["/hang.wav"] = hang
    settings.ARCHIVE_READ_TIMEOUT = 0.3
    with pytest.raises(fetch.FetchError, match="Could not reach"):
        fetch.open_url(media_host.url("/hang.wav"))
    release.set()
