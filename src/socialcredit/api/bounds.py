"""Bounds on what one request may make the server read: its head (request line and headers) and
its body. Past a bound the server answers (431 or 413, the one JSON error shape) and reads no
further, so that nobody can keep it busy by sending a huge request.

The head is bounded in the HTTP protocol (`BoundedHttpTools`, uvicorn's httptools protocol with
a count): the parser gathers a header's value by concatenation, so an unbounded header costs
time quadratic in its size (a 100 MiB header kept the server busy for 16 s). The body is bounded
in ASGI (`BodyLimit`), in front of the application.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from socialcredit.api.errors import body
from socialcredit.i18n import _

_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
)


def bounded_protocol(max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, refusing a request whose head passes `max_head_bytes`."""

    class Bounded(BoundedHttpTools):
        limit = max_head_bytes

    return Bounded


# An ASGI extension of this protocol: `scope["extensions"][SHUTDOWN]["event"]`, an asyncio.Event
# set when the server begins to shut down (Ctrl-C, SIGTERM). uvicorn waits for every response in
# progress to finish before it stops, and tells the application nothing; a response that never
# ends by itself (the dashboard's event stream) watches this and ends, so that the server stops.
SHUTDOWN = "socialcredit.shutdown"


class BoundedHttpTools(HttpToolsProtocol):
    """Counts the bytes of each request's head, and answers 431 and closes the connection once
    they pass `limit`. Two counts, since a head may arrive in one piece or in many:

    - the bytes received while a head is open, checked after the parser has seen each piece
      (so that a piece that ends with the start of a body is not held against its head): a
      head that never ends is cut off within one piece of the limit;
    - the bytes of the request line and of each header as the parser hands them over: a whole
      head that arrived in one piece is refused before the application sees it.
    """

    limit = 32 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._reset_head()
        self._stopping = asyncio.Event()
        super().connection_made(transport)

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()

    def _reset_head(self) -> None:
        self._head_open = True
        self._head_bytes = 0  # received while the head is open
        self._head_parsed = 0  # handed over by the parser
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        too_large = self._refused or (self._head_open and self._head_bytes > self.limit)
        if too_large and not self.transport.is_closing():
            self._refuse_head()

    def on_message_begin(self) -> None:
        self._reset_head()
        super().on_message_begin()
        extensions = dict(self.scope.get("extensions") or {})
        extensions[SHUTDOWN] = {"event": self._stopping}
        self.scope["extensions"] = extensions

    def on_url(self, url: bytes) -> None:
        self._head_parsed += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_parsed += len(name) + len(value) + 4  # ": " and CRLF
        if self._head_parsed > self.limit:
            self._refused = True
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_open = False
        if self._refused:
            return  # no request is started: the connection is answered 431 and closed
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse_head(self) -> None:
        # Refused while the head is parsed, before any middleware has read Accept-Language: in
        # English, the API's source language.
        message = f"the request line and headers are larger than {self.limit} bytes"
        payload = body("headers_too_large", message, [{"field": "headers", "reason": message}])
        length = b"content-length: " + str(len(payload)).encode("ascii") + b"\r\n\r\n"
        self.transport.write(_HEAD_TOO_LARGE + length + payload)
        self.transport.close()


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes is answered 413 without reading further.

    A declared `Content-Length` over the limit is refused before a byte of the body is read; a
    body within it passes untouched (the server delivers no more than it declares). A chunked
    body is read here, up to the limit, and handed on whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None and not chunked:
            if length.isdigit() and int(length) > self.limit:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if not chunked:  # no body at all
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            part = message.get("body", b"")
            size += len(part)
            if size > self.limit:
                await self._refuse(send)
                return
            parts.append(part)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(parts), receive), send)

    async def _refuse(self, send: Send) -> None:
        message = _("the request body is larger than {limit} bytes", limit=self.limit)
        payload = body("too_large", message, [{"field": "body", "reason": message}])
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode("ascii")),
            (b"connection", b"close"),  # the rest of the body is never read
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _replay(whole: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": whole, "more_body": False}
        return await receive()  # after the body: wait for the client to leave

    return replay
