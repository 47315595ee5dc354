"""Hostile inputs for the gallery: script injection, header injection and path traversal.

Every XSS payload sets ``window.__pwned`` and/or opens a dialog if it ever runs, so the browser
test can tell "shown as text" from "executed". Payload ``i`` marks itself with ``i``.
"""

from __future__ import annotations


def xss_payloads() -> list[str]:
    """Script injection in the contexts the templates use: text, attributes, JSON-LD, URLs."""
    raw = [
        '<script>window.__pwned={i};alert({i})</script>',
        '<img src=x onerror="window.__pwned={i};alert({i})">',
        '"><svg onload="window.__pwned={i}">',
        "' autofocus onfocus='window.__pwned={i}' x='",
        '" autofocus onfocus="window.__pwned={i}" x="',
        '</script><script>window.__pwned={i}</script>',
        '</title></style></textarea><script>window.__pwned={i}</script>',
        'javascript:window.__pwned={i}',
        '<a href="javascript:window.__pwned={i}" id="clickme{i}">x</a>',
        '<iframe srcdoc="<script>parent.__pwned={i}</script>"></iframe>',
        '{{{{7*7}}}}${{7*7}}<%= 7*7 %>',  # template injection: must stay literal, not "49"
        '\u2028\u2029</script><!--<script>window.__pwned={i}</script>',
        '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned={i}">',
        '<base href="http://evil.example/"><meta http-equiv="refresh" content="0;url=http://evil.example/">',
    ]
    return [p.format(i=i + 1) for i, p in enumerate(raw)]


CRLF_VALUES = [
    "en\r\nSet-Cookie: pwned=1",
    "nl\r\nX-Injected: yes",
    "%0d%0aX-Injected: yes",
    "en\nX-Injected: yes",
    "\r\n\r\n<script>window.__pwned=99</script>",
]
"""Header injection attempts (percent-encoded into URLs, raw where a header value allows it)."""

TRAVERSAL_PATHS = [
    "/static/../../etc/passwd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/....//....//etc/passwd",
    "/static/..%5c..%5cnode.key",
    "/static/%2e%2e%2fnode.key",
    "/static/node.key",
    "/static/store.sqlite3",
    "/static/..%00/node.key",
    "/media/..%2f..%2fnode.key",
    "/media/../node.key",
    "/works/..%2fnode.key",
    "/works/../../store.sqlite3",
    "/preview/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/about/channel.svg/../../node.key",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/node.key",
    "/store.sqlite3",
    "/daemon.json",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/upload/..%2f..%2fnode.key",
]
"""Paths that must never reach a file outside the packaged static files (all 4xx, never 500)."""
