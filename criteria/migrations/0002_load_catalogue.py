from django.db import migrations


def load(apps, schema_editor):
    from criteria.catalogue import load_sets

    load_sets(apps)


class Migration(migrations.Migration):
    dependencies = [("criteria", "0001_initial"), ("areas", "0002_load_regions")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
