"""The studio application: ``create_app(settings)``.

Routes::

    /                          overview (keys, endorsement, what to do next)
    /keys                      create, import, unlock, lock; /keys/{role}.pub
    /endorsement               artist: request (file, QR) and the endorsement received
    /curator                   curator: import requests, endorsed artists; /curator/takedown
    /publish                   drop a file; /publish/{draft} budget, cost, metadata, sign, save, send
    /static/{name}             the gallery's stylesheet and icon, the studio's own CSS and JS
"""

from __future__ import annotations

import hashlib
import time
from importlib import resources

from aiohttp import web

from node.gallery.media import STATIC, STATIC_TYPES, StaticFile, load_static, static_file, static_version
from node.gallery.security import add_security_headers
from node.studio import endorse_views, keys_views, publish_views, takedown_views
from node.studio.draft import MAX_UPLOAD
from node.studio.folder import StudioFolder, endorsement_state
from node.studio.guard import guard
from node.studio.render import StudioRenderer
from node.studio.session import SessionTable
from node.studio.settings import StudioSettings
from node.studio.state import STUDIO, StudioState, page, session_of

ROLE = "{role:artist|curator}"
DRAFT = "{draft:[A-Za-z0-9_-]{12}}"
GALLERY_FILES = ("gallery.css", "favicon.svg")


def static_files() -> dict[str, StaticFile]:
    """The gallery's stylesheet and icon (the same look), plus ``node/studio/static``."""
    gallery = load_static()
    files = {name: gallery[name] for name in GALLERY_FILES}
    for entry in (resources.files("node.studio") / "static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            body = entry.read_bytes()
            files[entry.name] = StaticFile(body, STATIC_TYPES[suffix], hashlib.sha256(body).hexdigest()[:16])
    return files


async def home(request: web.Request) -> web.Response:
    """``GET /``: where the artist or curator stands."""
    folder = request.app[STUDIO].folder
    artist = folder.public_key("artist")
    curator = folder.public_key("curator")
    endorsement = folder.endorsement() if artist else None
    return page(request, "home.html", nav="home", artist=artist, curator=curator,
                unlocked=sorted(session_of(request).keys),
                state=endorsement_state(endorsement, int(time.time())) if endorsement else None,
                home=str(folder.home))


def create_app(settings: StudioSettings) -> web.Application:
    """Build the studio for one user's folder."""
    app = web.Application(middlewares=[guard], client_max_size=MAX_UPLOAD)
    files = static_files()
    renderer = StudioRenderer({"asset_version": static_version(files), "preset_name": settings.preset})
    app[STUDIO] = StudioState(settings=settings, folder=StudioFolder(settings.home), sessions=SessionTable(),
                              renderer=renderer)
    app[STATIC] = files
    app.on_response_prepare.append(add_security_headers)

    r = app.router
    r.add_get("/", home)
    r.add_get("/keys", keys_views.keys_page)
    r.add_post(f"/keys/{ROLE}/create", keys_views.create_key)
    r.add_post(f"/keys/{ROLE}/import", keys_views.import_key)
    r.add_post(f"/keys/{ROLE}/unlock", keys_views.unlock_key)
    r.add_post(f"/keys/{ROLE}/lock", keys_views.lock_key)
    r.add_get(f"/keys/{ROLE}.pub", keys_views.public_key_file)
    r.add_get("/endorsement", endorse_views.artist_page)
    r.add_post("/endorsement/request", endorse_views.make_request)
    r.add_get("/endorsement/request.meshart-request", endorse_views.request_file)
    r.add_post("/endorsement/import", endorse_views.import_endorsement)
    r.add_get("/curator", endorse_views.curator_page)
    r.add_post("/curator/requests", endorse_views.import_request)
    r.add_get("/curator/requests/{request_id:[A-Za-z0-9_-]{12}}", endorse_views.request_page)
    r.add_post("/curator/requests/{request_id:[A-Za-z0-9_-]{12}}/endorse", endorse_views.endorse)
    r.add_get("/curator/artists/{artist:[0-9a-f]{16}}", endorse_views.endorsed_page)
    r.add_get("/curator/artists/{artist:[0-9a-f]{16}}.endorsement", endorse_views.endorsed_file)
    r.add_get("/curator/takedown", takedown_views.takedown_page)
    r.add_post("/curator/takedown", takedown_views.sign_takedown)
    r.add_get("/curator/takedown.takedown", takedown_views.takedown_file)
    r.add_get("/publish", publish_views.publish_page)
    r.add_post("/publish", publish_views.drop_file)
    r.add_get(f"/publish/{DRAFT}", publish_views.draft_page)
    r.add_get(f"/publish/{DRAFT}/cost", publish_views.cost_fragment)
    r.add_get(f"/publish/{DRAFT}/content", publish_views.draft_content)
    r.add_post(f"/publish/{DRAFT}/sign", publish_views.sign)
    r.add_get(f"/publish/{DRAFT}/bundle", publish_views.bundle_page)
    r.add_get(f"/publish/{DRAFT}/bundle.meshart", publish_views.bundle_file)
    r.add_post(f"/publish/{DRAFT}/send", publish_views.send)
    r.add_get("/static/{name}", static_file)
    return app
