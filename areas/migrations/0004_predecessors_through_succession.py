from django.db import migrations, models

# The provinces' merges of 1/7/2025 (Nghị quyết 202/2025/QH15 of the National Assembly, 12/6/2025).
PROVINCE_BASIS = "NQ 202/2025/QH15"


def copy_links(apps, schema_editor):
    """Every existing "formed from" link becomes a succession row: whole units, on the new unit's first day."""
    Area = apps.get_model("areas", "Area")
    AreaSuccession = apps.get_model("areas", "AreaSuccession")
    links = Area.predecessors.through.objects.select_related("from_area")
    AreaSuccession.objects.bulk_create(
        [
            AreaSuccession(
                new_id=link.from_area_id,
                old_id=link.to_area_id,
                share="full",
                basis=PROVINCE_BASIS if link.from_area.level == "province" else "",
                on=link.from_area.valid_from,
            )
            for link in links
        ],
        ignore_conflicts=True,
    )


def copy_back(apps, schema_editor):
    Area = apps.get_model("areas", "Area")
    AreaSuccession = apps.get_model("areas", "AreaSuccession")
    Area.predecessors.through.objects.bulk_create(
        [Area.predecessors.through(from_area_id=s.new_id, to_area_id=s.old_id) for s in AreaSuccession.objects.all()]
    )


class Migration(migrations.Migration):
    dependencies = [("areas", "0003_admin_map")]

    operations = [
        migrations.RunPython(copy_links, copy_back),
        migrations.RemoveField(model_name="area", name="predecessors"),
        migrations.AddField(
            model_name="area",
            name="predecessors",
            field=models.ManyToManyField(
                blank=True,
                help_text="Các đơn vị cũ được sáp nhập, chia tách thành đơn vị này.",
                related_name="successors",
                through="areas.AreaSuccession",
                through_fields=("new", "old"),
                to="areas.area",
                verbose_name="hình thành từ",
            ),
        ),
    ]
