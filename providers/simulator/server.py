"""The simulator's HTTP server: one stdlib ThreadingHTTPServer for all four providers.

HTTP/1.1 with keep-alive and an exact Content-Length on every answer (SSE streams excepted:
they close the connection), one daemon thread per connection. Per request: route by method
and path, apply the provider's faults, let the provider module answer, log it in
`world.log`.
"""

import contextlib
import http
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from . import apikley, apimall, audiopod, munsit, simapi, webhooks
from .control import LoggedRequest
from .protocol import Reply, Request, Route, bearer, json_reply
from .world import World

MODULES: dict[str, Any] = {"apimall": apimall, "apikley": apikley, "audiopod": audiopod, "munsit": munsit}
ROUTES: list[Route] = [*apimall.ROUTES, *apikley.ROUTES, *audiopod.ROUTES, *munsit.ROUTES, *simapi.ROUTES]


def proxy_error(status: int) -> Reply:
    """What a 502/503/504 looks like in the wild: the load balancer's HTML, not the API's JSON."""
    title = f"{status} {http.HTTPStatus(status).phrase}"
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    page += "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    return Reply(status=status, body=page.encode(), content_type="text/html")


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """(route, path parameters, methods allowed on the path when the method is not)."""
    allowed = []
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found:
            if route.method == method:
                return route, found.groupdict(), []
            allowed.append(route.method)
    return None, {}, allowed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GenboardSimulator/1.0"
    # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server: "_Server"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def _handle(self) -> None:
        sim = self.server.simulator
        world = sim.world
        split = urlsplit(self.path)
        length = self.headers.get("Content-Length", "")
        body = self.rfile.read(int(length)) if length.isdigit() and int(length) > 0 else b""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # we do not read chunked bodies: do not reuse the stream
        route, params, allowed = match(self.command, split.path)
        request = Request(
            world=world,
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            base_url=sim.base_url,
            params=params,
        )
        # Unmatched paths are logged too: an adapter calling a wrong path should show up.
        provider, endpoint = "unmatched", f"{self.command} {split.path}"
        key = bearer(request.headers) or request.headers.get("X-API-Key")
        try:
            if route is None:
                reply = json_reply(
                    {"detail": "Method Not Allowed" if allowed else "Not Found"}, 405 if allowed else 404
                )
                if allowed:
                    reply.headers["Allow"] = ", ".join(allowed)
            else:
                provider, endpoint = route.provider, route.endpoint
                module = MODULES.get(provider)
                key = module.key_of(request) if module else bearer(request.headers)
                reply = self._answer(route, request, module)
        except Exception:
            # A bug in the simulator: say so loudly rather than imitate a provider.
            traceback.print_exc(file=sys.stderr)
            reply = json_reply({"detail": "simulator error (see its console)"}, 500)
        world.log.record(
            LoggedRequest(
                at=world.now(),
                provider=provider,
                endpoint=endpoint,
                key=key,
                target=params.get("id") or request.arg("taskId"),
                status=reply.status,
                code=reply.code,
            )
        )
        self._send(reply)

    def _answer(self, route: Route, request: Request, module: Any) -> Reply:
        if module is None:
            return route.handler(request)
        faults = request.world.faults
        fault = faults[route.provider]
        if fault.latency:
            time.sleep(fault.latency)
        if route.provider == "apikley" and fault.maintenance:
            reply = apikley.maintenance()
        elif fault.rate_limited:
            reply = module.too_many(request, fault.retry_after)
        elif faults.roll(fault.error_rate):
            reply = module.server_error(request) if fault.error_status == 500 else proxy_error(fault.error_status)
        else:
            reply = route.handler(request)
        if reply.stream is None and reply.body and faults.roll(fault.truncate_rate):
            # Cut mid-JSON; Content-Length is the cut length, so the HTTP framing stays valid.
            reply.body = reply.body[: len(reply.body) // 2]
        reply.drip = fault.drip
        return reply

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.stream is not None:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

                def write(chunk: bytes) -> None:
                    self.wfile.write(chunk)
                    self.wfile.flush()

                reply.stream(write)
            else:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    # A trickle: each piece comes well within any read timeout, the whole
                    # answer takes ages.
                    self.wfile.flush()
                    for start in range(0, len(reply.body), 16):
                        self.wfile.write(reply.body[start : start + 16])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.simulator.verbose:
            sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stopping must not wait for idle keep-alive connections
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: "SimulatorServer"):
        self.simulator = simulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every client still connected, so their threads end now."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class SimulatorServer:
    """The simulator on a port: `SimulatorServer(world, port=0).start()` in a thread (tests),
    or `.serve_forever()` in the foreground (the management command)."""

    def __init__(self, world: World | None = None, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False):
        self.world = world or World()
        self.verbose = verbose
        self._httpd = _Server((host, port), self)
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        # stop() waits up to one poll interval for the loop to notice: keep it short for tests.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="provider-simulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        webhooks.stop(self.world)
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
