"""A bare aiohttp webhook handler (read the body, parse JSON, answer 200): the baseline.

Run: ``python -m bench.bare PORT``.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    if not isinstance(body, dict):
        return web.Response(status=400)
    return web.json_response({"ok": True})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def main() -> None:
    app = web.Application()
    app.router.add_post("/pixlpark/{token}/{event}", handle)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
