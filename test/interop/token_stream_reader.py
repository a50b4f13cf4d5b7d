"""A token-stream reader in Python's standard library alone, written from docs/AI-STREAMING.md
("Wire events") and docs/PROTOCOL.md: it joins a durable room mid-message, reads the history
backwards in small pages until it finds the message's start, then applies the live chunks,
each once. Used by test/integration/token-streams-python.test.ts, which streams the message
and reads what this prints: one JSON object per line.

    python3 token_stream_reader.py PORT ROOM MESSAGE_ID
"""

import json
import sys

from binary_client import WebSocket  # the hand-made RFC 6455 client next to this file

PAGE = 5  # small on purpose: the start of the message is several pages back


class Reader:
    def __init__(self):
        self.messages = {}  # id -> {"text", "next", "done", "failed", "partial"}
        self.last = None  # (epoch, offset) of the last publication applied
        self.shown = []  # every text of the watched message, in order

    def apply(self, event, data, position, accept_gaps):
        """Rules 1-3 of the guide. Returns False for a gap (chunk past the next index)."""
        epoch, offset = position["epoch"], position["offset"]
        if self.last and self.last[0] == epoch and offset <= self.last[1]:
            return True  # already applied
        if not event.startswith("token-stream:"):
            self.last = (epoch, offset)
            return True
        m = self.messages.get(data["id"])
        if m is None:
            m = {"text": "", "next": 0, "done": False, "failed": False, "partial": False}
        if event == "token-stream:chunk" and not (m["done"] or m["failed"]):
            if data["index"] < m["next"]:
                pass
            elif data["index"] == m["next"]:
                m["text"] += data["text"]
                m["next"] += 1
            elif accept_gaps:
                m["text"], m["next"], m["partial"] = data["text"], data["index"] + 1, True
            else:
                return False
        elif event == "token-stream:finish" and not (m["done"] or m["failed"]):
            m["text"], m["next"], m["done"], m["partial"] = data["text"], data["chunks"], True, False
        elif event == "token-stream:fail" and not (m["done"] or m["failed"]):
            m["failed"] = True
            if "text" in data and data["chunks"] >= m["next"]:
                m["text"], m["next"] = data["text"], data["chunks"]
        self.messages[data["id"]] = m
        self.last = (epoch, offset)
        return True


def main():
    port, room, watched = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ws = WebSocket("127.0.0.1", port, "/ws")
    ref = 0
    held = []  # live events that arrive while the history is read

    def send(frame):
        ws.send(1, json.dumps(frame).encode())

    def reply_to(wanted_ref):
        """Frames until the reply to wanted_ref; live events met on the way are held."""
        while True:
            _, payload = ws.receive()
            frame = json.loads(payload)
            if frame["type"] == "ping":
                send({"type": "pong"})
            elif frame["type"] == "event" and frame.get("room") == room:
                held.append(frame)
            elif frame["type"] == "reply" and frame["ref"] == wanted_ref:
                return frame

    def request(frame):
        nonlocal ref
        ref += 1
        send(dict(frame, ref=ref))
        return reply_to(ref)

    send({"type": "hello", "v": 1})
    while json.loads(ws.receive()[1])["type"] != "welcome":
        pass

    # Rule 4: join, then the history (latest page, then earlier pages to reach the start).
    joined = request({"type": "join", "room": room})["data"]
    assert joined["durable"] is True
    latest = request({"type": "history", "room": room, "limit": PAGE})["data"]
    publications, epoch = latest["publications"], latest["position"]["epoch"]
    pages = 1

    def starts_mid_message(pubs):
        for p in pubs:
            if p["event"] == "token-stream:start" or p["event"] == "token-stream:finish":
                return False
            if p["event"] == "token-stream:chunk":
                return p["data"]["index"] > 0
        return False

    while publications and publications[0]["position"]["offset"] > 1 and starts_mid_message(publications):
        first = publications[0]["position"]["offset"]
        n = min(PAGE, first - 1)
        answer = request({"type": "history", "room": room, "since": {"epoch": epoch, "offset": first - 1 - n}, "limit": n})
        if "error" in answer:
            break  # trimmed: the message will be partial
        publications = answer["data"]["publications"] + publications
        pages += 1

    reader = Reader()
    for p in publications:
        reader.apply(p["event"], p.get("data"), p["position"], True)
    for frame in sorted(held, key=lambda f: f["position"]["offset"]):
        reader.apply(frame["event"], frame.get("data"), frame["position"], True)
    held.clear()
    reader.shown.append(reader.messages.get(watched, {}).get("text", ""))
    print(json.dumps({"kind": "caught-up", "pages": pages, "text": reader.shown[-1]}), flush=True)

    # Live, until the watched message ends.
    while True:
        _, payload = ws.receive()
        frame = json.loads(payload)
        if frame["type"] == "ping":
            send({"type": "pong"})
            continue
        if frame["type"] != "event" or frame.get("room") != room or "position" not in frame:
            continue
        if not reader.apply(frame["event"], frame.get("data"), frame["position"], False):
            print(json.dumps({"kind": "gap", "frame": frame}), flush=True)
            return
        m = reader.messages.get(watched)
        if m and m["text"] != reader.shown[-1]:
            reader.shown.append(m["text"])
        if m and (m["done"] or m["failed"]):
            print(json.dumps({"kind": "ended", "message": m, "shown": reader.shown}), flush=True)
            return


main()
