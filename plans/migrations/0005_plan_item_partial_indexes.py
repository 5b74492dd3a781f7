from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0004_plan_signer_title_and_position"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="planitem",
            index=models.Index(condition=models.Q(("area__isnull", False)), fields=["area"], name="plan_item_placed"),
        ),
        migrations.AddIndex(
            model_name="planitem",
            index=models.Index(
                condition=models.Q(("status__in", ("done", "cancelled")), _negated=True),
                fields=["deadline_date"],
                name="plan_item_open_deadline",
            ),
        ),
    ]
