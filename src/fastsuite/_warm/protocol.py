"""The messages between the client and the zygote, over a Unix socket.

A request is one byte carrying the caller's descriptors (SCM_RIGHTS), then a message: a
dictionary, marshalled, after its length. Replies are messages too: {"pid": n} when a child
runs, {"fallback": why} when the child found it cannot run this safely (before it wrote
anything), {"refused": why} when the zygote will not fork, and last {"exit": code} or
{"signal": n}.

Only what the interpreter has loaded before any import is used (marshal, not json; _socket's
methods, not socket's): every run of the client pays for its imports before its first result.
Marshal's data is trusted as the zygote trusts its peer: the same user (SO_PEERCRED), on a
socket in a folder only that user may enter.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import _socket
import marshal
import os
import sys

from fastsuite._warm import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

MAX_FDS = 3  # the caller's stdin, stdout and stderr
_LENGTH_BYTES = 4
_INT_BYTES = 4  # a C int: what SCM_RIGHTS carries per descriptor
_MAX_MESSAGE = 64 * 1024 * 1024


def send_request(sock: _socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    ancillary = b"".join(fd.to_bytes(_INT_BYTES, sys.byteorder) for fd in fds)
    sock.sendmsg([b"R"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, ancillary)] if fds else [])
    send_message(sock, request)


def receive_request(
    conn: _socket.socket, max_fds: int = MAX_FDS
) -> tuple[dict[str, Any], list[int]]:
    marker, ancillary, _flags, _address = conn.recvmsg(1, _socket.CMSG_SPACE(max_fds * _INT_BYTES))
    fds = [
        int.from_bytes(data[start : start + _INT_BYTES], sys.byteorder)
        for level, kind, data in ancillary
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS
        for start in range(0, len(data) - len(data) % _INT_BYTES, _INT_BYTES)
    ]
    try:
        if marker != b"R":
            raise ConnectionError("not a fastsuite-warm request")
        return receive_message(conn), fds
    except BaseException:
        for fd in fds:
            _close(fd)
        raise


def send_message(sock: _socket.socket, message: dict[str, Any]) -> None:
    payload = marshal.dumps(message)
    sock.sendall(len(payload).to_bytes(_LENGTH_BYTES, "big") + payload)


def receive_message(sock: _socket.socket) -> dict[str, Any]:
    """The next message; EOFError when the other end closed before sending one."""
    header = _read_exactly(sock, _LENGTH_BYTES, eof_ok=True)
    if not header:
        raise EOFError("the other end closed the connection")
    length = int.from_bytes(header, "big")
    if length > _MAX_MESSAGE:
        raise ConnectionError("not a fastsuite-warm message")
    try:
        message = marshal.loads(_read_exactly(sock, length))  # noqa: S302 (this user's)
    except (ValueError, EOFError, TypeError) as error:
        raise ConnectionError(f"not a fastsuite-warm message: {error}") from None
    if not isinstance(message, dict):
        raise ConnectionError("not a fastsuite-warm message")
    return message


def _read_exactly(sock: _socket.socket, size: int, eof_ok: bool = False) -> bytes:
    chunks = []
    wanted = size
    while wanted:
        chunk = sock.recv(wanted)
        if not chunk:
            if eof_ok and wanted == size:
                return b""
            raise ConnectionError("the other end went away mid-message")
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _close(fd: int) -> None:
    try:  # noqa: SIM105 (contextlib: an import before the first result)
        os.close(fd)
    except OSError:
        pass


# The zygote's replies are messages like any other.
send_reply = send_message
