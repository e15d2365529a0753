"""Assembles /api/v1 from each domain app's router."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from kefu.core.api_base import SessionAuth, StrictParser, TokenAuth, install_error_handlers


class KefuJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # noqa: RUF012 - Ninja reads this class attribute


api = NinjaAPI(
    title="Kefu API",
    version="1",
    description=(
        "The Kefu service-centre API. Authenticate with a personal API token "
        "(`Authorization: Bearer kefu_…`, created under My account → API tokens) or, from the "
        "browser, with your signed-in session (send the CSRF token for changes). Lists use "
        "cursor pagination: pass `next_cursor` back as `cursor`. Every error has the body "
        '`{"error": {"code", "message", "fields"?}}`.'
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=KefuJSONRenderer(),
    parser=StrictParser(),
)
install_error_handlers(api)


def _mount() -> None:
    from kefu.accounts.api import router as accounts
    from kefu.calls.api import router as calls
    from kefu.chat.api import router as chat
    from kefu.core.api import router as audit
    from kefu.customers.api import router as customers
    from kefu.email.api import router as email
    from kefu.field.api import router as field
    from kefu.incidents.api import router as incidents
    from kefu.kb.api import router as kb
    from kefu.plans.api import router as plans
    from kefu.qa.api import router as qa
    from kefu.reports.api import router as reports
    from kefu.requirements.api import router as requirements
    from kefu.routing.api import router as routing
    from kefu.search.api import router as search
    from kefu.sla.api import router as sla
    from kefu.surveys.api import router as surveys
    from kefu.tickets.api import router as tickets
    from kefu.wfm.api import router as wfm

    api.add_router("", accounts)
    api.add_router("", customers)
    api.add_router("", audit)
    api.add_router("", tickets)
    api.add_router("", sla)
    api.add_router("", routing)
    api.add_router("", search)
    api.add_router("", kb)
    api.add_router("", calls)
    api.add_router("", wfm)
    api.add_router("", email)
    api.add_router("", surveys)
    api.add_router("", qa)
    api.add_router("", chat)
    api.add_router("", reports)
    api.add_router("", field)
    api.add_router("", plans)
    api.add_router("", requirements)
    api.add_router("", incidents)


_mount()
