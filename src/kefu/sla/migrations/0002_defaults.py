"""The default business calendars and SLA policies (administrators edit them under SLA setup)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from kefu.sla.defaults import install

    install(
        {
            name: apps.get_model("sla", name)
            for name in ("BusinessCalendar", "SlaPolicy", "SlaTarget", "Escalation")
        }
        | {"TicketType": apps.get_model("tickets", "TicketType")}
    )


def backwards(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.all().delete()
    apps.get_model("sla", "BusinessCalendar").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("tickets", "0002_default_types")]

    operations = [migrations.RunPython(forwards, backwards)]
