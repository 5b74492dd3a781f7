"""Load-test people and targets: 100 officers of the Tân Yên communes and 10 reviewers, on top of seed_demo.

Run by loadtest/run.sh against a scratch database (never production): prints a JSON plan that
loadtest/locustfile.py reads (LOADTEST_PLAN). Each officer edits an indicator no other officer edits, so a
409 (stale form) or 500 in the run is a real failure, not two simulated people typing into the same box.
"""

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ntm_portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402

from areas.models import Area, Role, RoleKind  # noqa: E402
from criteria import services  # noqa: E402
from criteria.models import CriteriaSet, Indicator, IndicatorKind  # noqa: E402

OFFICERS, REVIEWERS = 100, 10
YEAR = 2024
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "tai-thu-ntm-2024")


@transaction.atomic
def main():
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: 110 PBKDF2 rounds here would take a minute
    district = Area.objects.get(code="216", level="district")  # Tân Yên, from seed_demo
    province = district.parent
    communes = list(Area.objects.filter(parent=district, level="commune").order_by("pk"))
    criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
    indicators = list(
        Indicator.objects.in_set(criteria_set)
        .filter(kind=IndicatorKind.PERCENTAGE)
        .select_related("criterion__criteria_set")
        .order_by("criterion__number", "sort_key")
    )
    officers = []
    for n in range(OFFICERS):
        area = communes[n % len(communes)]
        indicator = indicators[n // len(communes)]
        user, _ = User.objects.update_or_create(
            username=f"taithu.canbo{n + 1:03d}", defaults={"password": password, "first_name": f"Cán bộ {n + 1}"}
        )
        Role.objects.get_or_create(user=user, area=area, kind=RoleKind.OFFICER)
        # A result already there, as in a commune that has been reporting: the run measures edits.
        services.record_indicator_result(area=area, indicator=indicator, year=YEAR, user=user, value=Decimal(50))
        officers.append(
            {
                "username": user.username,
                "area": area.pk,
                "criterion": indicator.criterion_id,
                "indicator": indicator.pk,
            }
        )
    reviewers = []
    for n in range(REVIEWERS):
        area = district if n % 2 == 0 else province
        user, _ = User.objects.update_or_create(
            username=f"taithu.thamtra{n + 1:02d}", defaults={"password": password, "first_name": f"Thẩm tra {n + 1}"}
        )
        Role.objects.get_or_create(user=user, area=area, kind=RoleKind.REVIEWER)
        reviewers.append({"username": user.username, "area": area.pk})
    return {
        "password": PASSWORD,
        "year": YEAR,
        "set": criteria_set.code,
        "officers": officers,
        "reviewers": reviewers,
    }


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
