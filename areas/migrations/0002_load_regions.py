from django.db import migrations


def load(apps, schema_editor):
    from criteria.catalogue import load_regions

    load_regions(apps)


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
