from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.kb.models import Article, KbCategory
from kefu.kb.services import ArticleInput


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=KbCategory.objects.all())
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Article.Visibility.choices)
    body = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 16, "class": "kefu-mono"}),
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=300, required=False, help_text=_("Separate with spaces.")
    )
    review_by = forms.DateField(
        label=_("Review by"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date"}, format="%Y-%m-%d"
        ),  # what <input type=date> reads
        help_text=_("The owner is reminded on this day to check the article is still right."),
    )
    related = forms.ModelMultipleChoiceField(
        label=_("Related articles"),
        queryset=Article.objects.order_by("title"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    note = forms.CharField(label=_("Change note"), max_length=200, required=False)

    def __init__(self, *args: Any, article: Article | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if article is not None:
            related = self.fields["related"]
            assert isinstance(related, forms.ModelMultipleChoiceField)
            related.queryset = Article.objects.exclude(pk=article.pk).order_by("title")

    def to_input(self) -> ArticleInput:
        d = self.cleaned_data
        return ArticleInput(
            title=d["title"],
            summary=d.get("summary") or "",
            body=d["body"],
            category_id=d["category"].pk,
            visibility=d["visibility"],
            tags=(d.get("tags") or "").replace("，", " ").replace(",", " ").split(),
            review_by=d.get("review_by"),
            related_ids=[a.pk for a in d.get("related") or []],
            note=d.get("note") or "",
        )

    def add_service_errors(self, exc: Any) -> None:
        mapping = {"category_id": "category"}
        for field, errors in exc.message_dict.items():
            name = mapping.get(field, field)
            for error in errors:
                self.add_error(name if name in self.fields else None, error)


def initial_for(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "summary": article.summary,
        "category": article.category_id,
        "visibility": article.visibility,
        "body": article.body,
        "tags": " ".join(article.tags.values_list("name", flat=True)),
        "review_by": article.review_by,
        "related": list(article.related.values_list("pk", flat=True)),
    }
