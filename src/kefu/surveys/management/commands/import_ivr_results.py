"""kefu manage import_ivr_results TEMPLATE_CODE FILE: record survey answers collected by the IVR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.context import origin
from kefu.surveys.imports import import_ivr_results
from kefu.surveys.models import SurveyTemplate


class Command(BaseCommand):
    help = "Import IVR satisfaction results (CSV or JSON: call_id, answered_at, csat, nps)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        template = SurveyTemplate.objects.filter(code=options["template"]).first()
        if template is None:
            raise CommandError(f"no survey template with code {options['template']!r}")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        try:
            with origin("cli"):
                count = import_ivr_results(actor=None, name=str(path), text=text, template=template)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write(f"{path}: {count} answers imported")
