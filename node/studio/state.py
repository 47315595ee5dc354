"""The studio's per-application state, reachable from handlers as ``request.app[STUDIO]``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.studio.folder import StudioFolder
from node.studio.render import StudioRenderer
from node.studio.session import Session, SessionTable
from node.studio.settings import StudioSettings


@dataclass
class StudioState:
    """What every handler shares: the settings, the folder on disk, sessions and rendering."""

    settings: StudioSettings
    folder: StudioFolder
    sessions: SessionTable
    renderer: StudioRenderer


STUDIO = web.AppKey("studio_state", StudioState)
SESSION = web.RequestKey("studio_session", Session)  # the request's Session, set by the guard


def session_of(request: web.Request) -> Session:
    """The session the guard attached to this request."""
    return request[SESSION]


def page(request: web.Request, template: str, status: int = 200, **values: object) -> web.Response:
    """Render a studio page for this request."""
    return request.app[STUDIO].renderer.page(request, session_of(request), template, status, **values)


def see_other(location: str) -> web.Response:
    """A 303 redirect (returned, so the guard can add the session cookie)."""
    return web.Response(status=303, headers={"Location": location})
