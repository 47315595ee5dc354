"""Browser sessions: the CSRF token, keys unlocked in this session, and work in progress.

A session lives in the server's memory only, tied to a random cookie that ends when the browser
closes (or the studio stops). An unlocked key stays here, never in a file or a page, so its
passphrase is asked once per session; "lock" forgets it.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from node.artwork.bundle import Bundle
from node.artwork.keys import Role, SecretKey
from node.artwork.request import EndorsementRequest
from node.artwork.takedown import Takedown
from node.studio.draft import Draft

SESSION_COOKIE = "studio_session"
MAX_SESSIONS = 32
MAX_DRAFTS = 8


@dataclass
class Session:
    """One browser's state."""

    id: str
    csrf: str
    keys: dict[Role, SecretKey] = field(default_factory=dict)
    drafts: OrderedDict[str, Draft] = field(default_factory=OrderedDict)
    bundles: dict[str, Bundle] = field(default_factory=dict)  # draft id -> the signed bundle
    requests: OrderedDict[str, EndorsementRequest] = field(default_factory=OrderedDict)  # curator's inbox
    takedown: Takedown | None = None  # the last takedown the curator signed

    def add_draft(self, draft: Draft) -> None:
        """Keep ``draft``, forgetting the oldest beyond :data:`MAX_DRAFTS`."""
        self.drafts[draft.id] = draft
        while len(self.drafts) > MAX_DRAFTS:
            old, _ = self.drafts.popitem(last=False)
            self.bundles.pop(old, None)

    def add_request(self, request: EndorsementRequest) -> str:
        """Keep an imported request for the curator to endorse; returns its id."""
        request_id = secrets.token_urlsafe(9)
        self.requests[request_id] = request
        while len(self.requests) > MAX_DRAFTS:
            self.requests.popitem(last=False)
        return request_id


class SessionTable:
    """The sessions of this server, the most recently used last; the oldest go beyond a bound."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._limit = limit

    def get(self, session_id: str | None) -> Session | None:
        """The session with this cookie value, or None."""
        if session_id is None or session_id not in self._sessions:
            return None
        self._sessions.move_to_end(session_id)
        return self._sessions[session_id]

    def new(self) -> Session:
        """A fresh session with its own CSRF token."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        self._sessions[session.id] = session
        while len(self._sessions) > self._limit:
            self._sessions.popitem(last=False)
        return session
