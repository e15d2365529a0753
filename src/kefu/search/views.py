"""Screens: the staff search page and the synonym list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Team
from kefu.core.permissions import require_perm, require_staff
from kefu.kb.models import Article
from kefu.search import services
from kefu.search.forms import SearchForm, SynonymForm
from kefu.search.models import SynonymGroup
from kefu.tickets.models import TicketType
from kefu.tickets.states import Status

PAGE = 20


@login_required
def search(request: HttpRequest) -> HttpResponse:
    require_staff(request.user)
    form = SearchForm(request.GET or None)
    results = None
    page = 1
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        page = form.cleaned_data.get("page") or 1
        results = services.search(
            request.user,
            form.cleaned_data["q"],
            form.filters(),
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
    statuses = [*Status.choices, *((v, f"{label}") for v, label in Article.Status.choices)]
    return render(
        request,
        "search/search.html",
        {
            "form": form,
            "results": results,
            "page": page,
            "has_next": bool(results and results.total > page * PAGE),
            "statuses": statuses,
            "types": TicketType.objects.filter(is_active=True),
            "teams": Team.objects.order_by("name"),
            "nav": "search",
        },
    )


@login_required
def synonyms(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "search.synonyms")
    form = SynonymForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_synonyms(
                None, form.cleaned_data["words"], form.cleaned_data["note"], actor=request.user
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Synonyms saved. Searches use them at once."))
            return redirect("search:synonyms")
    return render(
        request,
        "search/synonyms.html",
        {"groups": SynonymGroup.objects.all(), "form": form, "nav": "synonyms"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def synonym_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    require_perm(request.user, "search.synonyms")
    group = SynonymGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise Http404
    if request.POST.get("delete"):
        services.delete_synonyms(group, actor=request.user)
        messages.success(request, _("Synonym group deleted."))
        return redirect("search:synonyms")
    try:
        services.save_synonyms(
            group, request.POST.get("words", ""), request.POST.get("note", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, _("Synonyms saved. Searches use them at once."))
    return redirect("search:synonyms")
