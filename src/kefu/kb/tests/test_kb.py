"""The knowledge base through its screens, API and services: workflow, versions, visibility,
files, votes, help-centre deflection, drafts from work orders and review reminders."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import Event, Notification
from kefu.core.permissions import Role
from kefu.kb import services
from kefu.kb.models import Article, ArticleFile, ArticleVersion, Deflection, KbCategory
from kefu.testing.factories import ApiClient, make_portal_user, make_ticket, make_user
from kefu.tickets import services as tickets

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def kb(centre):
    category = KbCategory.objects.create(name="停电与抢修")
    writer = make_user(Role.AGENT_L2, username="writer", teams=[centre["second"]])
    editor = centre["supervisor"]

    def article(
        title="家里停电怎么办",
        body="先看邻居家是否有电。",
        *,
        visibility="public",
        publish=True,
        **extra,
    ):
        a = services.create_article(
            services.ArticleInput(
                title=title, body=body, category_id=category.pk, visibility=visibility, **extra
            ),
            actor=writer,
        )
        if publish:
            a = services.transition_article(a, Article.Status.PUBLISHED, actor=editor)
        return a  # fmt: skip

    return {**centre, "category": category, "writer": writer, "editor": editor, "article": article}


def test_writer_drafts_sends_for_review_and_editor_publishes(kb, client):
    # given a draft written by an agent
    a = kb["article"](publish=False)
    assert a.status == "draft" and a.version == 1
    # the writer may not publish
    with pytest.raises(PermissionDenied):
        services.transition_article(a, "published", actor=kb["writer"])
    # when they send it for review, the editor is told
    services.transition_article(a, "review", actor=kb["writer"])
    assert Notification.objects.filter(user=kb["editor"], kind="kb_review").count() == 1
    # sending back needs a reason
    with pytest.raises(ValidationError):
        services.transition_article(a, "draft", actor=kb["editor"])
    # then the editor publishes it from the article page
    client.force_login(kb["editor"])
    response = client.post(reverse("kb:transition", args=[a.pk]), {"to": "published"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == "published" and a.published_at is not None
    assert Notification.objects.filter(user=kb["writer"], kind="kb_reviewed").count() == 1
    assert list(
        Event.objects.filter(object_type="article", object_id=a.pk, action="article_status")
        .order_by("id")
        .values_list("changes", flat=True)
    ) == [{"status": ["draft", "review"]}, {"status": ["review", "published"]}]


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(kb):
    a = kb["article"](publish=False)
    with pytest.raises(ValidationError):
        services.transition_article(a, "archived", actor=kb["editor"])
    a.refresh_from_db()
    assert a.status == "draft"


def test_every_save_of_the_text_is_a_version_with_a_diff_and_restore(kb, client):
    a = kb["article"]()
    data = services.ArticleInput(
        title=a.title, body="先看邻居家是否有电。\n再看总闸。", category_id=kb["category"].pk,
        visibility="public", note="加了第二步",
    )  # fmt: skip
    services.update_article(a, data, actor=kb["editor"])
    a.refresh_from_db()
    assert a.version == 2
    assert list(a.versions.values_list("number", "note")) == [
        (2, "加了第二步"),
        (1, "First version"),
    ]
    client.force_login(kb["editor"])
    page = client.get(reverse("kb:diff", args=[a.pk, 2])).content.decode()
    assert '<div class="kefu-diff-add">+ 再看总闸。</div>' in page
    # restoring version 1 makes a third version with the old text: nothing is lost
    assert client.post(reverse("kb:restore", args=[a.pk, 1])).status_code == 302
    a.refresh_from_db()
    assert (a.version, a.body) == (3, "先看邻居家是否有电。")
    assert ArticleVersion.objects.filter(article=a).count() == 3


def test_only_editors_change_a_published_article(kb):
    a = kb["article"]()
    data = services.ArticleInput(title="改", body="改", category_id=kb["category"].pk)
    with pytest.raises(PermissionDenied):
        services.update_article(a, data, actor=kb["writer"])
    a.refresh_from_db()
    assert a.title == "家里停电怎么办" and a.version == 1


def test_customers_and_visitors_read_only_published_public_articles(kb, client):
    public = kb["article"]()
    internal = kb["article"]("坐席话术", "内部", visibility="internal")
    draft = kb["article"]("草稿", "还没写完", publish=False)
    for user in (None, make_portal_user()):
        client.logout()
        if user:
            client.force_login(user)
        assert client.get(reverse("portal:help_article", args=[public.pk])).status_code == 200
        assert client.get(reverse("portal:help_article", args=[internal.pk])).status_code == 404
        assert client.get(reverse("portal:help_article", args=[draft.pk])).status_code == 404
    api = ApiClient(make_portal_user())
    assert [a["id"] for a in api.get("kb/articles").json()] == [public.pk]
    assert api.get(f"kb/articles/{internal.pk}").status_code == 404
    # staff read published internal articles; only writers see drafts
    qa_ids = {a["id"] for a in ApiClient(make_user(Role.LIAISON)).get("kb/articles").json()}
    assert qa_ids == {public.pk, internal.pk}
    writer_ids = {a["id"] for a in ApiClient(kb["writer"]).get("kb/articles").json()}
    assert writer_ids == {public.pk, internal.pk, draft.pk}


def test_help_centre_search_finds_public_articles_only(kb, client):
    kb["article"]("家里停电怎么办", "先看邻居家是否有电")
    kb["article"]("停电话术", "内部话术", visibility="internal")
    page = client.get(reverse("portal:help"), {"q": "停电"}).content.decode()
    assert "家里<mark>停电</mark>怎么办" in page
    assert "话术" not in page


def test_the_article_text_is_sanitised(kb, client):
    a = kb["article"]("安全", "正文<script>alert(1)</script> [链接](javascript:alert(2)) **粗体**")
    page = client.get(reverse("portal:help_article", args=[a.pk])).content.decode()
    assert "<script>alert(1)" not in page and "javascript:" not in page
    assert "<strong>粗体</strong>" in page


def test_files_follow_the_articles_visibility_and_types_are_checked(kb, client):
    internal = kb["article"]("内部附件", "见附件", visibility="internal")
    client.force_login(kb["editor"])
    upload = SimpleUploadedFile("图.png", PNG, content_type="image/png")
    assert (
        client.post(reverse("kb:file_add", args=[internal.pk]), {"file": upload}).status_code == 302
    )
    item = ArticleFile.objects.get()
    download = client.get(reverse("kb:file", args=[item.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    client.force_login(make_portal_user())
    assert client.get(reverse("kb:file", args=[item.pk])).status_code == 404
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(ValidationError):
        services.add_file(internal, exe, actor=kb["editor"])
    assert ArticleFile.objects.count() == 1


def test_one_vote_per_person_and_views_are_counted(kb, client):
    a = kb["article"]()
    customer = make_portal_user()
    client.force_login(customer)
    client.get(reverse("portal:help_article", args=[a.pk]))
    client.post(reverse("portal:help_vote", args=[a.pk]), {"helpful": "1"})
    client.post(reverse("portal:help_vote", args=[a.pk]), {"helpful": "1"})
    client.post(reverse("portal:help_vote", args=[a.pk]), {"helpful": "0"})  # changes their mind
    client.logout()
    client.post(reverse("portal:help_vote", args=[a.pk]), {"helpful": "1"})  # a visitor
    a.refresh_from_db()
    assert (a.views, a.helpful, a.not_helpful) == (1, 1, 1)


def test_suggestions_while_writing_a_request_and_the_deflection_record(kb, client):
    a = kb["article"]("家里停电怎么办", "先看邻居家是否有电")
    kb["article"]("停电话术", "内部", visibility="internal")
    customer = make_portal_user()
    client.force_login(customer)
    # while typing, public articles are suggested
    html = client.get(reverse("portal:help_suggest"), {"title": "家里停电了", "description": ""})
    body = html.content.decode()
    assert "家里停电怎么办" in body and "话术" not in body
    # opening one records it, and the article asks whether it solved the problem
    response = client.get(reverse("portal:help_suggested", args=[a.pk]), {"q": "家里停电了"})
    row = Deflection.objects.get()
    assert (row.article_id, row.user_id, row.query, row.outcome) == (
        a.pk,
        customer.pk,
        "家里停电了",
        "opened",
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="deflection"' in page
    # "yes, solved" is recorded; no one else can answer for this customer
    other = make_portal_user()
    client.force_login(other)
    assert (
        client.post(reverse("portal:help_outcome", args=[row.pk]), {"solved": "1"}).status_code
        == 404
    )
    client.force_login(customer)
    client.post(reverse("portal:help_outcome", args=[row.pk]), {"solved": "1"})
    row.refresh_from_db()
    assert row.outcome == "solved"


def test_ticket_page_suggests_articles_and_inserts_link_or_text(kb, client):
    a = kb["article"]("家里停电怎么办", "## 第一步\n先看邻居家是否有电")
    internal = kb["article"]("停电话术", "先致歉", visibility="internal")
    ticket = make_ticket(actor=kb["agent"], title="家里停电", description="整栋楼停电")
    client.force_login(kb["agent"])
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert 'data-testid="kb-panel"' in page and "家里停电怎么办" in page
    link = client.get(reverse("kb:insert", args=[a.pk]), {"mode": "link"}).json()
    assert link["text"] == f"家里停电怎么办: http://testserver/portal/help/{a.pk}/\n"
    text = client.get(reverse("kb:insert", args=[a.pk]), {"mode": "text"}).json()
    assert text["text"] == "家里停电怎么办\n\n第一步\n先看邻居家是否有电\n"
    refused = client.get(reverse("kb:insert", args=[internal.pk]), {"mode": "link"})
    assert refused.status_code == 400


def test_a_resolved_work_order_becomes_a_draft_article(kb, client):
    ticket = make_ticket(actor=kb["agent"], title="电表黑屏", description="电表屏幕不亮")
    client.force_login(kb["agent"])
    # not yet resolved: refused with a message, nothing created
    client.post(reverse("kb:from_ticket", args=[ticket.number]))
    assert Article.objects.count() == 0
    tickets.add_reply(actor=kb["agent"], ticket=ticket, body="按一下按键即可点亮屏幕。")
    tickets.transition_ticket(actor=kb["agent"], ticket=ticket, to="resolved")
    response = client.post(reverse("kb:from_ticket", args=[ticket.number]))
    a = Article.objects.get()
    assert response["Location"] == reverse("kb:edit", args=[a.pk])
    assert (a.title, a.status, a.visibility, a.source_ticket_id) == (
        "电表黑屏",
        "draft",
        "internal",
        ticket.pk,
    )
    assert "电表屏幕不亮" in a.body and "按一下按键即可点亮屏幕。" in a.body


def test_review_by_reminds_the_owner_once(kb):
    today = timezone.localdate()
    due = kb["article"](review_by=today - dt.timedelta(days=1))
    kb["article"]("以后再看", "正文", review_by=today + dt.timedelta(days=30))
    assert services.remind_reviews(today) == 1
    assert services.remind_reviews(today) == 0
    notes = Notification.objects.filter(kind="kb_review_due")
    assert [(n.user_id, n.url) for n in notes] == [
        (kb["writer"].pk, reverse("kb:detail", args=[due.pk]))
    ]


def test_api_writes_and_moves_articles_with_clear_errors(kb):
    api = ApiClient(kb["writer"])
    created = api.post(
        "kb/articles",
        {"title": "如何申请电表校验", "body": "到营业厅申请。", "category_id": kb["category"].pk,
         "visibility": "public", "tags": ["电表", "校验"]},
    )  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["version"], body["tags"]) == ("draft", 1, ["校验", "电表"])
    moved = api.post(f"kb/articles/{body['id']}/transition", {"to": "published"})
    assert moved.status_code == 403
    bad = api.post("kb/articles", {"title": "", "body": "x", "category_id": 999})
    assert bad.status_code == 422
    missing = api.post("kb/articles", {"title": "t", "body": "x", "category_id": 999})
    assert missing.status_code == 422 and "请选择分类。" in missing.content.decode()
    assert Article.objects.count() == 1


def test_articles_are_searchable_with_their_access(kb):
    from kefu.search.services import Filters, search

    internal = kb["article"]("停电话术", "先致歉再核实", visibility="internal")
    public = kb["article"]()
    hits = lambda u: [h.object_id for h in search(u, "停电", Filters(kinds=("article",))).hits]  # noqa: E731
    assert set(hits(kb["agent"])) == {internal.pk, public.pk}
    assert hits(make_portal_user()) == [public.pk]


def test_the_edit_page_keeps_the_review_date_it_does_not_show_changed(kb, client):
    a = kb["article"](review_by=dt.date(2027, 6, 3))
    client.force_login(kb["editor"])
    page = client.get(reverse("kb:edit", args=[a.pk])).content.decode()
    assert 'value="2027-06-03"' in page
