"""Tell whether a local-stack server answers its own protocol on a loopback port.

Standard library only: `stack.sh` runs it before `.venv/` exists. An open port is not
enough (RabbitMQ opens its listener before it accepts connections, and a foreign
program may hold the port), so each probe speaks the first exchange of the protocol.

Usage: python3 probe.py amqp|redis|mongo PORT [--host 127.0.0.1] [--timeout-s 2]
Exit 0 when the server answered as expected, 1 otherwise (reason on stderr).
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

AMQP_PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
AMQP_FRAME_METHOD = 1
AMQP_CONNECTION_START = (10, 10)
MONGO_OP_MSG = 2013


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError(f"connection closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def probe_amqp(sock: socket.socket) -> None:
    """Expect Connection.Start in answer to the AMQP 0-9-1 protocol header."""
    sock.sendall(AMQP_PROTOCOL_HEADER)
    frame_type, _channel, _size = struct.unpack(">BHI", _recv_exactly(sock, 7))
    class_id, method_id = struct.unpack(">HH", _recv_exactly(sock, 4))
    if frame_type != AMQP_FRAME_METHOD or (class_id, method_id) != AMQP_CONNECTION_START:
        raise ConnectionError(
            f"not an AMQP 0-9-1 broker (frame {frame_type}, {class_id}.{method_id})"
        )


def probe_redis(sock: socket.socket) -> None:
    """Expect +PONG in answer to PING."""
    sock.sendall(b"PING\r\n")
    reply = sock.recv(64)
    if not reply.startswith(b"+PONG"):
        raise ConnectionError(f"not a ready Redis server (answered {reply[:40]!r})")


def _bson_document(*elements: bytes) -> bytes:
    body = b"".join(elements) + b"\x00"
    return struct.pack("<i", len(body) + 4) + body


def _bson_int32(name: str, value: int) -> bytes:
    return b"\x10" + name.encode() + b"\x00" + struct.pack("<i", value)


def _bson_string(name: str, value: str) -> bytes:
    raw = value.encode() + b"\x00"
    return b"\x02" + name.encode() + b"\x00" + struct.pack("<i", len(raw)) + raw


def probe_mongo(sock: socket.socket) -> None:
    """Expect ok: 1 in answer to an OP_MSG ping on the admin database."""
    document = _bson_document(_bson_int32("ping", 1), _bson_string("$db", "admin"))
    # OP_MSG: flag bits, then one section of kind 0 holding the command document.
    payload = struct.pack("<I", 0) + b"\x00" + document
    request_id = 1
    header = struct.pack("<iiii", 16 + len(payload), request_id, 0, MONGO_OP_MSG)
    sock.sendall(header + payload)
    length, _request, response_to, opcode = struct.unpack("<iiii", _recv_exactly(sock, 16))
    body = _recv_exactly(sock, length - 16)
    if opcode != MONGO_OP_MSG or response_to != request_id:
        raise ConnectionError(f"not a MongoDB wire server (opcode {opcode})")
    # The reply holds `ok` as a double (type 0x01); 1.0 means the ping succeeded.
    if b"\x01ok\x00" + struct.pack("<d", 1.0) not in body:
        raise ConnectionError("MongoDB wire server answered the ping without ok: 1")


PROBES = {"amqp": probe_amqp, "redis": probe_redis, "mongo": probe_mongo}


def main(argv: list[str]) -> int:
    """Run one probe and return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(PROBES))
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout-s", type=float, default=2.0)
    args = parser.parse_args(argv)
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout_s) as sock:
            PROBES[args.kind](sock)
    except (OSError, struct.error) as exc:
        print(f"{args.kind} on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
