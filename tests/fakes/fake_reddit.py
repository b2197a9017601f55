"""FakeReddit: Reddit's OAuth API as praw uses it, on a stdlib ThreadingHTTPServer at 127.0.0.1 (random port).

Point real praw at it with oauth_url = reddit_url = `fake.base_url`. Routes (trailing slashes optional):

    POST /api/v1/access_token     password grant; `bad_credentials` answers {"error": "invalid_grant"}
    GET  /r/<sub>/comments        newest comments first, honouring before / after / limit like Reddit
    GET  /r/<sub>/new             newest submissions first, same paging
    GET  /comments/<id>[/...]     the comment page: [submission listing, nested comment listing]
    POST /api/comment             thing_id + text: a new comment by `bot_name`, recorded in `posted`
    GET  /api/info?id=a,b         the things by fullname, at most 100 (more: 400, as Reddit refuses them); a
                                  deleted or removed thing keeps its place with body/selftext "[deleted]" or
                                  "[removed]" (shape as in praw's cassettes, e.g. TestComment.test_refresh__removed)
    GET  /user/<name>/comments    that author's comments, newest first

Knobs (set any time): `fail(status, times=1, path="")` answers the next N requests whose path starts with `path`
with `status`; `forbidden` (set of subreddit names) answers 403 to their listings and to replies in them;
`post_then_fail` (int) stores the next N replies and still answers 500 (Reddit timing out after the write).
Every request is logged in `requests` as (method, path, query).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-access-token"
RATE_HEADERS = {"x-ratelimit-remaining": "599.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "60"}


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children, "dist": len(children)}}


class FakeReddit:
    def __init__(self, *, bot_name: str = "counterpoint_bot") -> None:
        self.bot_name = bot_name
        self.lock = threading.Lock()
        self.things: dict[str, dict[str, Any]] = {}  # fullname -> data, in creation order
        self.posted: list[dict[str, Any]] = []  # replies made through POST /api/comment
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.forbidden: set[str] = set()
        self.post_then_fail = 0
        self.bad_credentials = False
        self._fails: list[list[Any]] = []  # [path prefix, status, remaining]
        self._next_id = int("k000", 36)
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> FakeReddit:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-reddit", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeReddit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- content --------------------------------------------------------------------------------------------------
    def _new_id(self) -> str:
        self._next_id += 1
        return _base36(self._next_id)

    def add_submission(self, sub: str, title: str, selftext: str = "", author: str = "alice") -> str:
        with self.lock:
            sid = self._new_id()
            self.things[f"t3_{sid}"] = {
                "id": sid, "name": f"t3_{sid}", "title": title, "selftext": selftext, "author": author,
                "author_fullname": f"t2_{author}", "created_utc": float(int(time.time())), "subreddit": sub,
                "subreddit_id": f"t5_{sub}", "permalink": f"/r/{sub}/comments/{sid}/post/", "is_self": True,
                "url": f"https://www.reddit.com/r/{sub}/comments/{sid}/post/", "locked": False, "archived": False,
                "num_comments": 0, "over_18": False,
            }  # fmt: skip
            return f"t3_{sid}"

    def add_comment(self, parent: str, body: str, author: str = "bob") -> str:
        """A comment replying to `parent` (a t3_ submission or t1_ comment fullname)."""
        with self.lock:
            return self._add_comment(parent, body, author)

    def _add_comment(self, parent: str, body: str, author: str) -> str:
        up = self.things[parent]
        link_id = parent if parent.startswith("t3_") else up["link_id"]
        sub = up["subreddit"]
        cid = self._new_id()
        self.things[f"t1_{cid}"] = {
            "id": cid, "name": f"t1_{cid}", "body": body, "author": author, "author_fullname": f"t2_{author}",
            "created_utc": float(int(time.time())), "link_id": link_id, "parent_id": parent, "subreddit": sub,
            "subreddit_id": f"t5_{sub}", "permalink": f"/r/{sub}/comments/{link_id[3:]}/post/{cid}/",
            "locked": False, "archived": False, "replies": "", "depth": 0,
        }  # fmt: skip
        return f"t1_{cid}"

    def delete(self, fullname: str, *, removed: bool = False) -> None:
        """The author deletes the item (author and text become "[deleted]"), or moderators remove it (the text
        becomes "[removed]", the author stays)."""
        with self.lock:
            d = self.things[fullname]
            key = "body" if fullname.startswith("t1_") else "selftext"
            d[key] = "[removed]" if removed else "[deleted]"
            if removed:
                d["removed_by_category"] = "moderator"
            else:
                d.update(author="[deleted]", author_fullname=None)

    def edit(self, fullname: str, text: str) -> None:
        with self.lock:
            d = self.things[fullname]
            d["body" if fullname.startswith("t1_") else "selftext"] = text
            d["edited"] = float(int(time.time()))

    def fail(self, status: int, times: int = 1, path: str = "") -> None:
        with self.lock:
            self._fails.append([path, status, times])

    def replies_to(self, fullname: str) -> list[dict[str, Any]]:
        return [p for p in self.posted if p["parent_id"] == fullname]

    def count(self, method: str, path_prefix: str) -> int:
        return sum(1 for m, p, _ in list(self.requests) if m == method and p.startswith(path_prefix))

    # --- routing (called from handler threads, under the lock) ----------------------------------------------------
    def _injected_failure(self, path: str) -> int | None:
        for rule in self._fails:
            if path.startswith(rule[0]) and rule[2] > 0:
                rule[2] -= 1
                return int(rule[1])
        return None

    def _of_kind(self, kind: str, **match: str) -> list[dict[str, Any]]:
        found = [
            d for f, d in self.things.items() if f.startswith(kind) and all(d.get(k) == v for k, v in match.items())
        ]
        return sorted(found, key=lambda d: int(d["id"], 36), reverse=True)

    def page(self, items: list[dict[str, Any]], kind: str, q: dict[str, str]) -> dict[str, Any]:
        """Reddit's paging: `before=X` gives the items just newer than X (nothing when X is gone), `after=X` the
        items just older; newest first either way."""
        limit = min(int(q.get("limit") or 25), 100)
        names = [d["name"] for d in items]
        if q.get("before"):
            if q["before"] not in names:
                return listing([])
            i = names.index(q["before"])
            chunk = items[max(0, i - limit) : i]
            return listing([{"kind": kind, "data": d} for d in chunk])
        start = names.index(q["after"]) + 1 if q.get("after") in names else 0
        chunk = items[start : start + limit]
        more = start + limit < len(items)
        return listing([{"kind": kind, "data": d} for d in chunk], chunk[-1]["name"] if more and chunk else None)

    def comment_page(self, sid: str) -> list[dict[str, Any]]:
        sub = self.things[f"t3_{sid}"]

        def tree(parent: str) -> list[dict[str, Any]]:
            out = []
            for d in sorted(self._of_kind("t1_", parent_id=parent), key=lambda d: int(d["id"], 36)):
                below = tree(d["name"])
                out.append({"kind": "t1", "data": {**d, "replies": listing(below) if below else ""}})
            return out

        return [listing([{"kind": "t3", "data": sub}]), listing(tree(sub["name"]))]

    def reply(self, form: dict[str, str]) -> tuple[int, Any]:
        target = self.things.get(form.get("thing_id", ""))
        if target is None:
            return 200, {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}}
        if target["subreddit"] in self.forbidden:
            return 403, {"message": "Forbidden", "error": 403}
        if target.get("locked"):
            return 200, {"json": {"errors": [["THREAD_LOCKED", "that thread is locked", "parent"]]}}
        fullname = self._add_comment(target["name"], form.get("text", ""), self.bot_name)
        made = self.things[fullname]
        self.posted.append(made)
        if self.post_then_fail > 0:
            self.post_then_fail -= 1
            return 500, {"message": "Internal Server Error", "error": 500}
        return 200, {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": made}]}}}


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class _Handler(BaseHTTPRequestHandler):
    owner: FakeReddit
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        path = "/" + url.path.strip("/")
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        fake = self.owner
        with fake.lock:
            fake.requests.append((method, path, query))
            status, body = self._route(fake, method, path, query, form)
        self._send(status, body)

    def _route(
        self, fake: FakeReddit, method: str, path: str, q: dict[str, str], form: dict[str, str]
    ) -> tuple[int, Any]:
        if path == "/api/v1/access_token":
            if fake.bad_credentials:
                return 200, {"error": "invalid_grant"}
            return 200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        if self.headers.get("Authorization") != f"bearer {TOKEN}":
            return 401, {"message": "Unauthorized", "error": 401}
        injected = fake._injected_failure(path)
        if injected is not None:
            return injected, {"message": "injected failure", "error": injected}
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/comment":
            return fake.reply(form)
        if method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] in ("comments", "new"):
            if parts[1] in fake.forbidden:
                return 403, {"message": "Forbidden", "error": 403, "reason": "banned"}
            kind = "t1" if parts[2] == "comments" else "t3"
            return 200, fake.page(fake._of_kind(kind + "_", subreddit=parts[1]), kind, q)
        if method == "GET" and parts[0] == "comments" and len(parts) >= 2:
            if f"t3_{parts[1]}" not in fake.things:
                return 404, {"message": "Not Found", "error": 404}
            return 200, fake.comment_page(parts[1])
        if method == "GET" and path == "/api/info":
            asked = [i for i in q.get("id", "").split(",") if i]
            if len(asked) > 100:
                return 400, {"message": "Bad Request", "error": 400}
            ids = [i for i in asked if i in fake.things]
            return 200, listing([{"kind": i[:2], "data": fake.things[i]} for i in ids])
        if method == "GET" and len(parts) == 3 and parts[0] == "user" and parts[2] == "comments":
            return 200, fake.page(fake._of_kind("t1_", author=parts[1]), "t1", q)
        return 404, {"message": "Not Found", "error": 404}

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in RATE_HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
