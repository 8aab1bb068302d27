"""The messages between the client and the zygote, over a Unix socket.

A request is one byte carrying the caller's descriptors (SCM_RIGHTS), then a length-prefixed
JSON object. Replies are JSON lines: {"pid": n} when a child runs, {"fallback": why} when the
child found it cannot run this safely (before it wrote anything), {"refused": why} when the
zygote will not fork, and last {"exit": code} or {"signal": n}.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import json
import socket
import struct

from fastsuite._warm import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_LENGTH = struct.Struct("!I")
MAX_FDS = 3  # the caller's stdin, stdout and stderr


def send_request(sock: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    socket.send_fds(sock, [b"R"], fds)
    payload = json.dumps(request).encode("utf-8", "surrogateescape")
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def receive_request(
    conn: socket.socket, max_fds: int = MAX_FDS
) -> tuple[dict[str, Any], list[int]]:
    marker, fds, _flags, _address = socket.recv_fds(conn, 1, max_fds)
    if marker != b"R":
        raise ConnectionError("not a fastsuite-warm request")
    (length,) = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))
    request = json.loads(_read_exactly(conn, length).decode("utf-8", "surrogateescape"))
    if not isinstance(request, dict):
        raise ConnectionError("not a fastsuite-warm request")
    return request, fds


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = conn.recv(size)
        if not chunk:
            raise ConnectionError("the client went away mid-request")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send_reply(conn: socket.socket, reply: dict[str, Any]) -> None:
    conn.sendall(json.dumps(reply).encode() + b"\n")
