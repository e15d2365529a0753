from django.db import migrations


def install_types(apps, schema_editor):
    from kefu.plans.defaults import install

    install(apps.get_model("tickets", "TicketType"))


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(install_types, migrations.RunPython.noop)]
