"""A misbehaving media host on loopback for the archive's tests, and helpers to make jobs with
outputs. `media_host.routes["/x.mp3"] = handler` where handler(h) writes a whole answer with
the BaseHTTPRequestHandler `h`; every request's path and headers are kept in `.requests`."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from history.models import Job

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(200)


class MediaHost:
    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                host.requests.append((self.path, dict(self.headers)))
                route = host.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def serve(self, path: str, body: bytes, content_type: str = "audio/wav", *, length: bool = True) -> str:
        def answer(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", content_type)
            if length:
                h.send_header("Content-Length", str(len(body)))
            else:
                h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = answer
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        def answer(h: BaseHTTPRequestHandler) -> None:
            h.send_response(302)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = answer
        return self.url(path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def media_host(settings) -> Iterator[MediaHost]:
    host = MediaHost()
    settings.ARCHIVE_ALLOWED_HOSTS = [f"127.0.0.1:{host.port}"]
    yield host
    host.stop()


def make_job(credential, outputs: list[dict], *, inputs=None, title: str = "Song", **fields) -> Job:
    """A finished job with these outputs (each {kind, url} at least)."""
    values = {
        "credential": credential,
        "provider": credential.provider,
        "kind": "music",
        "external_id": fields.pop("external_id", f"ext-{Job.objects.count() + 1}"),
        "title": title,
        "status": Job.Status.SUCCEEDED,
        "created": timezone.now(),
        "outputs": [dict(o, position=n) for n, o in enumerate(outputs)],
        "inputs": inputs or [],
        **fields,
    }
    return Job.objects.create(**values)
