"""The simulator's own endpoints under /_sim/ (no provider has them; no faults apply).

- `GET /_sim/` — clock, speed, settings, number of accounts.
- `GET /_sim/faults` — current faults; `POST` `{"<provider>|all": {field: value}}` changes
  them (fields: latency, drip, error_rate, error_status, truncate_rate, rate_limited, retry_after,
  maintenance), answering the new state or 400; `DELETE` clears every fault.
- `POST /_sim/jobs` `{"key": "sim-…", "count": 3, "stream": "audio"?}` → `{"ids": [...]}`.
- `GET /_sim/log` — request counters; `DELETE /_sim/log` resets them.
- `GET /_sim/apikley/task-ids` — see apikley.py.
- `GET /_sim/media/<audio|stream|upload|image>/<name>` — generated media (media.py);
  `?bytes=N` streams a file of exactly N bytes (benchmarks). `DELETE /_sim/media` makes every
  media URL answer 404, as after a provider deleted its files; `POST /_sim/media` brings them back.
- `POST|GET|DELETE /_sim/webhooks` — where an account's signed webhooks go (webhooks.py).
"""

from urllib.parse import unquote

from . import apikley, media, webhooks
from .protocol import Reply, Request, Route, json_reply
from .timefmt import iso_ms_z


def overview(request: Request) -> Reply:
    world = request.world
    return json_reply(
        {
            "simulator": "Genboard provider simulator",
            "base_url": request.base_url,
            "started": iso_ms_z(world.started),
            "now": iso_ms_z(world.now()),
            "speed": world.speed,
            "new_every": world.new_every,
            "rate_limits": world.rate_limits,
            "faults": world.faults.as_dict(),
        }
    )


def get_faults(request: Request) -> Reply:
    return json_reply(request.world.faults.as_dict())


def set_faults(request: Request) -> Reply:
    try:
        request.world.faults.update(request.json())
    except (ValueError, TypeError) as e:
        return json_reply({"error": str(e)}, 400)
    return json_reply(request.world.faults.as_dict())


def clear_faults(request: Request) -> Reply:
    request.world.faults.reset()
    return json_reply(request.world.faults.as_dict())


def add_jobs(request: Request) -> Reply:
    try:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("count", 1), int):
            raise ValueError('expected {"key": "sim-…", "count": <int>, "stream": <optional>}')
        ids = request.world.add_jobs(str(body.get("key")), body.get("count", 1), body.get("stream"))
    except ValueError as e:
        return json_reply({"error": str(e)}, 400)
    return json_reply({"ids": ids}, 201)


def get_log(request: Request) -> Reply:
    return json_reply({"requests": request.world.log.summary()})


def clear_log(request: Request) -> Reply:
    request.world.log.clear()
    return json_reply({"requests": []})


def serve_media(request: Request) -> Reply:
    found = media.serve(request.params["kind"], unquote(request.params["path"]))
    if found is None or request.world.media_gone:
        return json_reply({"error": "no such media"}, 404)
    body, content_type = found
    size = request.arg("bytes")
    if size and size.isdigit():
        return media.sized(body, content_type, int(size))
    # Immutable by construction: let the browser keep it.
    return Reply(body=body, content_type=content_type, headers={"Cache-Control": "public, max-age=86400"})


def delete_media(request: Request) -> Reply:
    request.world.media_gone = True
    return json_reply({"media": "gone"})


def restore_media(request: Request) -> Reply:
    request.world.media_gone = False
    return json_reply({"media": "served"})


ROUTES = [
    Route("sim", "GET", "/_sim/", overview),
    Route("sim", "GET", "/_sim/faults", get_faults),
    Route("sim", "POST", "/_sim/faults", set_faults),
    Route("sim", "DELETE", "/_sim/faults", clear_faults),
    Route("sim", "POST", "/_sim/jobs", add_jobs),
    Route("sim", "GET", "/_sim/log", get_log),
    Route("sim", "DELETE", "/_sim/log", clear_log),
    Route("sim", "GET", "/_sim/media/{kind}/{path}", serve_media),
    Route("sim", "DELETE", "/_sim/media", delete_media),
    Route("sim", "POST", "/_sim/media", restore_media),
    *apikley.SIM_ROUTES,
    *webhooks.SIM_ROUTES,
]
