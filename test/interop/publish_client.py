"""Publishing to Switchboard from Python's standard library, through the publish HTTP API.

The part between the "docs" markers is the example of docs/API.md ("HTTP API", "From
Python"), word for word: test/integration/http-api-python.test.ts checks that the two are
the same, runs this file against a real server and reads what it prints (one JSON object
per line).

    python3 publish_client.py BASE_URL API_KEY
"""

import sys
import urllib.parse

# --- docs: begin
import json
import time
import urllib.error
import urllib.request
import uuid


class SwitchboardApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


def call(base_url, api_key, route, body=None, idempotency_key=None, timeout=10):
    """POST `body` as JSON (GET when it is None); returns the JSON answer or raises SwitchboardApiError."""
    headers = {"Authorization": f"Bearer {api_key}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode("utf-8")
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(base_url + route, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            error = json.loads(err.read())
        except ValueError:  # not an answer of the API (a proxy's error page)
            error = {"code": "http_error", "message": str(err.reason)}
        raise SwitchboardApiError(err.code, error["code"], error["message"]) from None


def publish(base_url, api_key, publication, retries=3):
    """Publish once, however often it is retried: every attempt carries the same idempotency key."""
    key = publication.get("idempotencyKey") or str(uuid.uuid4())
    for attempt in range(retries + 1):
        try:
            return call(base_url, api_key, "/publish", dict(publication, idempotencyKey=key))
        except SwitchboardApiError as err:
            # 4xx: the request is wrong (or a conflict); retrying it cannot help.
            if attempt == retries or (err.status < 500 and err.code != "idempotency_in_flight"):
                raise
        except urllib.error.URLError:
            if attempt == retries:
                raise
        time.sleep(0.2 * 2**attempt)
# --- docs: end


def out(kind, **fields):
    print(json.dumps({"kind": kind, **fields}), flush=True)


def main():
    base_url, api_key = sys.argv[1], sys.argv[2]
    order = {"user": "alice", "event": "order", "data": {"id": 42, "total": "9.90"}, "idempotencyKey": "order-42"}
    out("published", answer=publish(base_url, api_key, order))
    # A backend that lost the answer retries: the same key, the same answer, no second delivery.
    for _ in range(3):
        out("retried", answer=call(base_url, api_key, "/publish", order))
    batch = {"publications": [{"room": "news", "event": "headline", "data": n} for n in (1, 2)] + [{"room": "news"}]}
    out("batch", answer=call(base_url, api_key, "/batch", batch))
    query = urllib.parse.urlencode({"user": "alice"})
    out("history", answer=call(base_url, api_key, f"/history?{query}"))
    for kind, key, body in (("wrong_key", "not-the-key", order), ("bad_body", api_key, {"user": "alice"})):
        try:
            call(base_url, key, "/publish", body)
        except SwitchboardApiError as err:
            out(kind, status=err.status, code=err.code)
    out("done", answer=publish(base_url, api_key, {"user": "alice", "event": "end"}))


if __name__ == "__main__":
    main()
