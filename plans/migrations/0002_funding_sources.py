from django.db import migrations

SOURCES = [
    ("CTMTQG_NTM", "CTMTQG xây dựng nông thôn mới"),
    ("CTMTQG_DTTS", "CTMTQG phát triển KT-XH vùng đồng bào DTTS&MN"),
    ("CTMTQG_GN", "CTMTQG giảm nghèo bền vững"),
    ("NS_TINH", "Ngân sách tỉnh"),
    ("NS_HUYEN", "Ngân sách huyện"),
    ("NS_XA", "Ngân sách xã"),
    ("TIN_DUNG", "Vốn tín dụng"),
    ("DOANH_NGHIEP", "Doanh nghiệp"),
    ("NHAN_DAN", "Nhân dân đóng góp"),
    ("XHH_KHAC", "Xã hội hóa khác"),
]


def load(apps, schema_editor):
    FundingSource = apps.get_model("plans", "FundingSource")
    for position, (code, name) in enumerate(SOURCES, start=1):
        FundingSource.objects.update_or_create(code=code, defaults={"name": name, "position": position * 10})


def unload(apps, schema_editor):
    apps.get_model("plans", "FundingSource").objects.filter(code__in=[code for code, _name in SOURCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
