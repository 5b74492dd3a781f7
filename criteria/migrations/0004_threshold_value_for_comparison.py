from django.db import migrations, models
from django.utils import timezone

VALUE_COMPARISONS = ("gte", "lte", "eq")


def unknown_levels_to_missing(apps, schema_editor):
    """A "≥" saved with no value (before the check existed) is a level nobody has given yet: "chưa có ngưỡng".

    The change is kept in the threshold's history so that an administrator sees what was altered and why.
    """
    Threshold = apps.get_model("criteria", "Threshold")
    HistoricalThreshold = apps.get_model("criteria", "HistoricalThreshold")
    now = timezone.now()
    for threshold in Threshold.objects.filter(comparison__in=VALUE_COMPARISONS, value__isnull=True):
        threshold.comparison = "missing"
        threshold.verified = False
        threshold.save(update_fields=["comparison", "verified"])
        HistoricalThreshold.objects.create(
            id=threshold.pk,
            indicator_id=threshold.indicator_id,
            variant_id=threshold.variant_id,
            region_id=threshold.region_id,
            commune_group=threshold.commune_group,
            year=threshold.year,
            raw=threshold.raw,
            comparison=threshold.comparison,
            value=None,
            verified=False,
            source=threshold.source,
            note=threshold.note,
            history_date=now,
            history_type="~",
            history_change_reason="Thiếu giá trị ngưỡng: chuyển thành chưa có ngưỡng",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0002_load_regions"),
        ("criteria", "0003_evidence"),
    ]

    operations = [
        migrations.RunPython(unknown_levels_to_missing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="threshold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("value__isnull", False), ("comparison__in", ("yes", "no", "manual", "missing")), _connector="OR"
                ),
                name="threshold_value_for_comparison",
                violation_error_message="So sánh ≥, ≤ hoặc = cần có giá trị ngưỡng.",
            ),
        ),
    ]
