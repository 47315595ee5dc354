"""Sending a signed bundle to a node's gallery upload endpoint, and reading the node's answer.

The node's ``/upload`` verifies the whole chain before it stores anything; on success it
redirects (303) to the work's page, otherwise it answers with a page whose alert box holds
the verifier's sentence. The studio shows either, and never follows the redirect itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import aiohttp

TIMEOUT_S = 60.0
MAX_ANSWER = 600


class NodeAddressError(ValueError):
    """The node address is not an http(s) URL."""


@dataclass(frozen=True)
class NodeAnswer:
    """What the node said: accepted (with the work's page) or refused (with its reason)."""

    accepted: bool
    status: int | None  # None: the node could not be reached
    work_url: str | None
    message: str


def upload_url(address: str) -> str:
    """The upload endpoint for a node address (``http://10.42.0.1``, ``…/upload`` or ``host:port``)."""
    text = address.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeAddressError(f"{address!r} is not a node address such as http://10.42.0.1/")
    path = parts.path.rstrip("/")
    if not path.endswith("/upload"):
        path += "/upload"
    return parts._replace(path=path, query="", fragment="").geturl()


class _AlertText(HTMLParser):
    """The text inside the page's ``role="alert"`` box (the gallery's error box)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif ("role", "alert") in attrs:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and data.strip():
            self.parts.append(data.strip())


def alert_text(html: str) -> str:
    """The refusal a gallery page gives, as one line (at most :data:`MAX_ANSWER` characters)."""
    parser = _AlertText()
    parser.feed(html)
    return " ".join(parser.parts)[:MAX_ANSWER]


async def send_bundle(address: str, bundle: bytes, filename: str) -> NodeAnswer:
    """POST ``bundle`` to the node at ``address`` as its upload form does."""
    url = upload_url(address)
    form = aiohttp.FormData()
    form.add_field("bundle", bundle, filename=filename, content_type="application/octet-stream")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as client, \
                client.post(url, data=form, allow_redirects=False) as response:
            body = await response.text(errors="replace")
            if response.status in (302, 303) and "Location" in response.headers:
                return NodeAnswer(True, response.status, urljoin(url, response.headers["Location"]), "")
            message = alert_text(body) or (response.reason or "")
            return NodeAnswer(False, response.status, None, message)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return NodeAnswer(False, None, None, str(exc) or type(exc).__name__)
