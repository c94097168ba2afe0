"""The admin console at ``/console``: server-rendered pages (Jinja2) over the same functions as
the API: triage through the service's batcher, reply checks through ``POST /v1/replies/assess``'s
function, decisions through ``store_feedback`` (``POST /v1/feedback``), the key check of
:mod:`lapor_triage.service.deps`.

One module per page (:mod:`.masuk`, :mod:`.antrean`, :mod:`.cek`, :mod:`.monev`, :mod:`.model`);
what they share, and the dependencies guarding pages and form posts, in :mod:`.web`. Every POST
carries the session's CSRF token (the sign-in form a double-submit cookie), and the session cookie
is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from lapor_triage.service.console import antrean, cek, masuk, model, monev
from lapor_triage.service.console.web import install_handlers

router = APIRouter()
for _page in (masuk, antrean, cek, monev, model):
    router.include_router(_page.router, include_in_schema=False)


def install(app: FastAPI) -> None:
    """Serve the console on ``app``: its pages and the handler of its guards."""
    install_handlers(app)
    app.include_router(router)
