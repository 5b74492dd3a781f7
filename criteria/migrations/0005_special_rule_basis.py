"""Verdict corrections (issue 16, item 5) for databases loaded from the earlier catalogue.

- Each set names the decision of its đặc biệt khó khăn / an toàn khu rule (QĐ 318/QĐ-TTg for 2021–2025 only).
- 2016–2020 roads 2.1–2.4 (numbers whose threshold is only "Đạt") are assessed by a person.
- 2016–2020 income levels are the 2020 level, named as such when an earlier year is judged.
Stored statuses of the commune sets are judged again; every change keeps a history row.
"""

from django.db import migrations, models

REASON = "Sửa cách chấm (#16): quy tắc xã ĐBKK/ATK theo bộ tiêu chí, chỉ tiêu 2.1–2.4, mức thu nhập theo năm"


def correct(apps, schema_editor):
    from criteria.catalogue import correct_loaded_sets, restate_statuses

    correct_loaded_sets(apps, reason=REASON)
    restate_statuses(apps, set_codes={"xa_ntm_2016_2020", "xa_ntm_2021_2025"}, reason=REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0004_predecessors_through_succession"),
        ("criteria", "0004_threshold_value_for_comparison"),
    ]

    operations = [
        migrations.AddField(
            model_name="criteriaset",
            name="special_rule_basis",
            field=models.CharField(
                blank=True,
                help_text="Văn bản của bộ tiêu chí quy định xã đặc biệt khó khăn, xã an toàn khu áp dụng ngưỡng vùng "
                "Trung du miền núi phía Bắc (ví dụ QĐ 318/QĐ-TTg). Để trống khi quyết định của bộ không nêu quy tắc "
                "này: khi đó các xã ấy được chấm theo vùng của tỉnh.",
                max_length=200,
                verbose_name="căn cứ quy tắc xã đặc biệt khó khăn, an toàn khu",
            ),
        ),
        migrations.RunPython(correct, migrations.RunPython.noop),
    ]
