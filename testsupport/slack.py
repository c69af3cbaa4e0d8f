"""A real local Slack-compatible receiver, and a Block Kit checker written from Slack's reference
(https://api.slack.com/reference/block-kit), independent of the code that builds the messages."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BLOCK_TYPES = {
    "header",
    "section",
    "context",
    "actions",
    "divider",
    "image",
    "rich_text",
    "input",
    "file",
    "video",
}
# A "&", "<" or ">" in mrkdwn must be written &amp; &lt; &gt;, or be part of a <url|label> link.
_LINK = re.compile(r"<[^<>|\s]+\|[^<>]*>")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def _mrkdwn_problems(text: str, where: str) -> list[str]:
    bare = _ENTITY.sub("", _LINK.sub("", text))
    return [f"{where}: unescaped {c!r} in mrkdwn" for c in "&<>" if c in bare]


def _text_problems(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    problems = [f"{where}: {len(text)} characters > {limit}"] if len(text) > limit else []
    if obj["type"] == "mrkdwn":
        problems += _mrkdwn_problems(text, where)
    return problems


def _button_problems(element: Any, where: str) -> list[str]:
    problems = _text_problems(element.get("text"), f"{where}.text", limit=75, plain_only=True)
    url = element.get("url", "")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 3000:
        problems.append(f"{where}: bad url {url!r:.80}")
    if not 1 <= len(element.get("action_id", "")) <= 255:
        problems.append(f"{where}: action_id missing or longer than 255")
    if element.get("style", "primary") not in ("primary", "danger"):
        problems.append(f"{where}: style {element.get('style')!r}")
    if len(element.get("accessibility_label", "")) > 75:
        problems.append(f"{where}: accessibility_label longer than 75")
    return problems


def _block_problems(block: Any, where: str) -> list[str]:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind not in BLOCK_TYPES:
        return [f"{where}: unknown block type {kind!r}"]
    if kind == "header":
        return _text_problems(block.get("text"), f"{where}.text", limit=150, plain_only=True)
    if kind == "section":
        return _text_problems(block.get("text"), f"{where}.text", limit=3000)
    if kind == "context":
        elements = block.get("elements") or []
        problems = [] if 1 <= len(elements) <= 10 else [f"{where}: {len(elements)} context elements"]
        for i, element in enumerate(elements):
            problems += _text_problems(element, f"{where}.elements[{i}]", limit=3000)
        return problems
    if kind == "actions":
        elements = block.get("elements") or []
        problems = [] if 1 <= len(elements) <= 25 else [f"{where}: {len(elements)} action elements"]
        for i, element in enumerate(elements):
            if element.get("type") != "button":
                problems.append(f"{where}.elements[{i}]: not a button")
            else:
                problems += _button_problems(element, f"{where}.elements[{i}]")
        return problems
    return []


def blockkit_problems(payload: Any) -> list[str]:
    """Every way ``payload`` breaks Block Kit's rules for an incoming-webhook message; [] when valid."""
    if not isinstance(payload, dict):
        return ["the message is not a JSON object"]
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return [f"blocks: {len(blocks) if isinstance(blocks, list) else blocks!r} (1 to 50 wanted)"]
    problems = [] if isinstance(payload.get("text"), str) and payload["text"] else ["text: no fallback text"]
    problems += _mrkdwn_problems(payload.get("text") or "", "text")
    for i, block in enumerate(blocks):
        problems += _block_problems(block, f"blocks[{i}]")
    action_ids = [
        e.get("action_id") for b in blocks if b.get("type") == "actions" for e in b.get("elements") or []
    ]
    if len(action_ids) != len(set(action_ids)):
        problems.append("action_id values repeat within the message")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("block_id values repeat within the message")
    return problems


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


class SlackReceiver:
    """http.server in a thread, acting as Slack: answers 500 to the first ``fail_first`` posts, then
    200 ``ok``; keeps every request (path, JSON body, the status it answered). ``refuse`` = (status,
    body) answers every post that way instead (Slack's 404 ``no_service`` for a deleted webhook)."""

    def __init__(
        self, *, fail_first: int = 0, refuse: tuple[int, str] | None = None, retry_after: str = ""
    ) -> None:
        self.fail_first = fail_first
        self.refuse = refuse
        self.retry_after = retry_after  # sent as ``Retry-After`` with every refusal when set
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    status, answer = (500, b"internal_error") if failing else (200, b"ok")
                    if receiver.refuse is not None:
                        status, answer = receiver.refuse[0], receiver.refuse[1].encode()
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type", ""),
                            "json": json.loads(body),
                            "answered": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                if receiver.retry_after and status != 200:
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/services/T000/B000/XXXX") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def delivered(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["answered"] == 200 and (path is None or r["path"] == path)]

    def __enter__(self) -> SlackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
