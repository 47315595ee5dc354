"""Jinja2 rendering of gallery pages, with autoescape on, and the per-request language."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from node.gallery.i18n import LANG_COOKIE, LANGUAGES, Translator, choose_language
from node.gallery.present import iso_date, iso_datetime

HTML_TYPE = "text/html"
COOKIE_MAX_AGE = 365 * 24 * 3600


def request_language(request: web.Request) -> str:
    """The interface language for this request (see :func:`~node.gallery.i18n.choose_language`)."""
    return choose_language(
        request.query.get("lang"), request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language")
    )


class Renderer:
    """Renders templates from ``node/gallery/templates`` with a translator per language."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("node.gallery", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        self.env.filters["date"] = iso_date
        self.env.filters["datetime"] = iso_datetime
        self.env.globals.update(globals_)
        self.translators = {lang: Translator(lang) for lang in LANGUAGES}
        translators = self.translators

        # Templates call ``_("key", name=value)``; the page's ``lang`` picks the catalogue.
        @jinja2.pass_context
        def gettext(context: jinja2.runtime.Context, key: str) -> str:
            return translators[context["lang"]].gettext(key)

        @jinja2.pass_context
        def ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
            return translators[context["lang"]].gettext(singular if n == 1 else plural)

        self.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]

    def render(self, template: str, lang: str, **values: Any) -> str:
        """Render ``template`` in ``lang``; ``values`` become template variables."""
        other = next(code for code in LANGUAGES if code != lang)
        values.setdefault("nav", "")
        return self.env.get_template(template).render(lang=lang, other_lang=other, **values)

    def respond(self, request: web.Request, body: str | bytes, status: int = 200) -> web.Response:
        """An HTML response that remembers an explicit ``?lang=`` choice in a cookie."""
        response = web.Response(
            body=body.encode() if isinstance(body, str) else body, status=status,
            content_type=HTML_TYPE, charset="utf-8",
        )
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Vary"] = "Accept-Language, Cookie"
        chosen = request.query.get("lang")
        if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=COOKIE_MAX_AGE, path="/", samesite="Lax", httponly=True)
        return response

    def page(self, request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
        """Render ``template`` in the request's language and wrap it in a response."""
        lang = request_language(request)
        other = next(code for code in LANGUAGES if code != lang)
        values.setdefault("switch_url", str(request.rel_url.update_query(lang=other)))
        return self.respond(request, self.render(template, lang, **values), status)
