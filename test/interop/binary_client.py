"""A Switchboard client in Python's standard library alone, written from docs/PROTOCOL.md.

It shows that the protocol, binary data included, can be spoken without the SDK: a
hand-made RFC 6455 client (no WebSocket library), the JSON frames, and binary messages
taken apart with struct. Used by test/integration/python-client.test.ts, which runs the
server and reads what this prints: one JSON object per line.

    python3 binary_client.py PORT
"""

import base64
import json
import os
import socket
import struct
import sys


class WebSocket:
    """Just enough of RFC 6455 for a client: masked frames out, unmasked frames in, no fragmentation sent."""

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: switchboard.v1\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"no upgrade: {status!r}")

    def send(self, opcode, payload):
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """The next data message as (opcode, payload); answers pings on the way."""
        while True:
            first, second = self.read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self.read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self.read(8))
            payload = self.read(length)
            opcode = first & 0x0F
            if opcode == 9:
                self.send(10, payload)
            elif opcode == 8:
                raise EOFError(f"closed by the server: {payload!r}")
            elif opcode in (1, 2):
                return opcode, payload


def binary_message(frame, attachments):
    """PROTOCOL.md, Binary data: u32 header length, the JSON header, then each attachment with its u32 length."""
    header = json.dumps(dict(frame, bin=len(attachments)), separators=(",", ":")).encode()
    out = struct.pack("!I", len(header)) + header
    for a in attachments:
        out += struct.pack("!I", len(a)) + a
    return out


def revive(value, take):
    """Put binary values in place of {"$bin": ...} markers (take() turns a marker's value into bytes)."""
    if isinstance(value, dict):
        if list(value.keys()) == ["$bin"]:
            return take(value["$bin"])
        return {k: revive(v, take) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v, take) for v in value]
    return value


def decode(opcode, payload):
    """A received message as a frame with bytes in place of markers."""
    if opcode == 1:
        frame = json.loads(payload)
        if "bin" in frame:
            frame["data"] = revive(frame["data"], base64.b64decode)
            del frame["bin"]  # the markers are replaced: the count has served
        return frame
    (header_length,) = struct.unpack("!I", payload[:4])
    frame = json.loads(payload[4 : 4 + header_length])
    attachments, at = [], 4 + header_length
    while at < len(payload):
        (length,) = struct.unpack("!I", payload[at : at + 4])
        attachments.append(payload[at + 4 : at + 4 + length])
        at += 4 + length
    frame["data"] = revive(frame["data"], lambda i: attachments[i])
    frame.pop("bin", None)
    return frame


def show(frame, kind):
    """Bytes printed as lists of numbers so the test can compare them."""
    as_json = revive_bytes(frame)
    print(json.dumps({"kind": kind, "frame": as_json}), flush=True)


def revive_bytes(value):
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": list(value)}
    if isinstance(value, dict):
        return {k: revive_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive_bytes(v) for v in value]
    return value


def next_frame(ws, wanted):
    while True:
        opcode, payload = ws.receive()
        frame = decode(opcode, payload)
        if frame["type"] == "ping":
            ws.send(1, b'{"type":"pong"}')
            continue
        if frame["type"] == wanted:
            return frame, "binary" if opcode == 2 else "text"


def main():
    port = int(sys.argv[1])
    ws = WebSocket("127.0.0.1", port, "/ws")
    ws.send(1, json.dumps({"type": "hello", "v": 1, "binary": True}).encode())
    welcome, _ = next_frame(ws, "welcome")
    print(json.dumps({"kind": "welcome", "sid": welcome["sid"]}), flush=True)

    # A request whose data holds two binary values, as a binary message.
    ws.send(2, binary_message({"type": "event", "ref": 1, "event": "echo", "data": {"a": {"$bin": 0}, "list": [1, {"$bin": 1}]}}, [b"\x00\x01\xff", b""]))
    reply, kind = next_frame(ws, "reply")
    show(reply, kind)

    # The same in the text form (base64), which every transport carries.
    text = {"type": "event", "ref": 2, "event": "echo", "data": {"a": {"$bin": base64.b64encode(b"hi").decode()}}, "bin": 1}
    ws.send(1, json.dumps(text).encode())
    reply, kind = next_frame(ws, "reply")
    show(reply, kind)

    # A broken binary message: the header length runs past the end.
    ws.send(2, struct.pack("!I", 1000) + b"{}")
    error, kind = next_frame(ws, "error")
    show(error, kind)


if __name__ == "__main__":  # token_stream_reader.py imports the WebSocket class
    main()
