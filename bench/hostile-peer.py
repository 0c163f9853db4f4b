#!/usr/bin/env python3
"""bench/hostile-peer.py — a QMP peer that misbehaves, for bench/memory.

    hostile-peer.py SOCKET CASE [MEGABYTES]

Listens on the UNIX socket SOCKET (vcpuprobe --socket SOCKET connects to it), serves one
client, then exits. A well-formed greeting and qmp_capabilities reply come first, except in
the greeting cases; the misbehaviour follows:

  huge-reply        the reply to the next command is one string of MEGABYTES (default 512)
  deep-reply        the reply is a value nested 1,000,000 arrays deep
  endless-events    events of 1 KiB, without end, and never a reply
  big-events        events of 16 MiB each (under the 64 MiB message cap), without end
  endless-greeting  a greeting whose string never ends
  deep-greeting     a greeting nested 1,000,000 objects deep

The peer writes as fast as the client reads and stops at the first write that fails (the
client closed its end), so what the client holds at any time is what it chose to keep."""
import os
import socket
import sys

GREETING = (b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
            b'"package": ""}, "capabilities": []}}\r\n')
CHUNK = 1 << 20


def read_command(conn, pending):
    """Reads one command object from the client (they are small and well-formed)."""
    while b"}" not in pending[0]:
        data = conn.recv(65536)
        if not data:
            raise ConnectionError("client closed")
        pending[0] += data
    end = pending[0].index(b"}") + 1
    while end < len(pending[0]) and pending[0].count(b"{", 0, end) > pending[0].count(b"}", 0, end):
        end = pending[0].index(b"}", end) + 1
    command, pending[0] = pending[0][:end], pending[0][end:]
    return command


def command_id(command):
    marker = b'"id":'
    at = command.find(marker)
    if at < 0:
        return b"null"
    rest = command[at + len(marker):].lstrip()
    end = 0
    while end < len(rest) and rest[end:end + 1] not in (b",", b"}"):
        end += 1
    return rest[:end].strip()


def stream(conn, head, body_chunk, tail, megabytes):
    """head, then body_chunk repeated to MEGABYTES (forever when None), then tail."""
    conn.sendall(head)
    sent = 0
    while megabytes is None or sent < megabytes * (1 << 20):
        conn.sendall(body_chunk)
        sent += len(body_chunk)
    conn.sendall(tail)


def serve(conn, case, megabytes):
    pending = [b""]
    if case == "endless-greeting":
        stream(conn, b'{"QMP": {"version": "', b"A" * CHUNK, b"", None)
        return
    if case == "deep-greeting":
        stream(conn, b'{"QMP": ', b'{"a": ' * (CHUNK // 6), b"", 6)
        return
    conn.sendall(GREETING)
    negotiation = read_command(conn, pending)
    conn.sendall(b'{"return": {}, "id": ' + command_id(negotiation) + b"}\r\n")
    command = read_command(conn, pending)
    reply_id = command_id(command)
    if case == "huge-reply":
        stream(conn, b'{"return": {"qemu": "', b"A" * CHUNK,
               b'"}, "id": ' + reply_id + b"}\r\n", megabytes)
    elif case == "deep-reply":
        stream(conn, b'{"return": ', b"[" * CHUNK, b"", 1)
    elif case in ("endless-events", "big-events"):
        size = 1024 if case == "endless-events" else 16 << 20
        event = (b'{"event": "HOSTILE", "data": {"pad": "' + b"A" * size
                 + b'"}, "timestamp": {"seconds": 1, "microseconds": 0}}\r\n')
        while True:
            conn.sendall(event)
    else:
        raise SystemExit("hostile-peer: unknown case " + case)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    path, case = sys.argv[1], sys.argv[2]
    megabytes = int(sys.argv[3]) if len(sys.argv) > 3 else 512
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    try:
        serve(conn, case, megabytes)
    except (BrokenPipeError, ConnectionError):
        pass
    finally:
        conn.close()
        server.close()
        os.unlink(path)


if __name__ == "__main__":
    main()
