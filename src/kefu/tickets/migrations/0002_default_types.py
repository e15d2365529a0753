"""The work-order types every hotline uses (administrators can rename, add or hide them)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from kefu.tickets.defaults import install

    install(apps.get_model("tickets", "TicketType"), apps.get_model("tickets", "VisibilityRule"))


def backwards(apps, schema_editor):
    apps.get_model("tickets", "VisibilityRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
