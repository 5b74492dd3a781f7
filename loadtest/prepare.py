"""Load-test people and targets, on top of `generate_scale` (or, without it, `seed_demo`).

Run by loadtest/run.sh against a scratch database (never production): prints a JSON plan that
loadtest/locustfile.py reads (LOADTEST_PLAN).

- 100 officers, each of a different commune of the largest province (Tân Yên's communes in turn on the demo
  data), each editing an indicator no other officer edits, so a 409 (stale form) or 500 in the run is a real
  failure, not two simulated people typing into the same box;
- 10 reviewers, of the largest district and of its province in turn;
- their sessions made here, directly in the session store, as a day's earlier logins would have left them: the
  run measures people working, not 110 PBKDF2 checks in its first seconds;
- a pool of separate accounts that log in during the run (locustfile `Arrival`), at a rate set there.
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

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from areas.models import Area, Role, RoleKind  # noqa: E402
from criteria import services  # noqa: E402
from criteria.models import CriteriaSet, Indicator, IndicatorKind  # noqa: E402

OFFICERS, REVIEWERS, ARRIVALS = 100, 10, 20
YEAR = 2024
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "tai-thu-ntm-2024")
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _session(user):
    """A logged-in session for `user`, stored as django.contrib.auth.login would store it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _targets():
    """(province, district, communes of the officers): the generated data's largest, else seed_demo's Tân Yên."""
    communes = Area.objects.communes().filter(code__startswith="G-", district__isnull=False)
    top = communes.values("district_id").annotate(n=Count("pk")).order_by("-n", "district_id").first()
    if top is None:
        district = Area.objects.get(code="216", level="district")  # Tân Yên, from seed_demo
        return district.parent, district, list(Area.objects.filter(parent=district, level="commune").order_by("pk"))
    district = Area.objects.get(pk=top["district_id"])
    province = district.province
    return province, district, list(communes.filter(province=province).order_by("code")[:OFFICERS])


@transaction.atomic
def main():
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once for everyone: the run measures logins, not this script
    province, district, communes = _targets()
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
                "session": _session(user),
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
        reviewers.append({"username": user.username, "session": _session(user), "area": area.pk})
    arrivals = []
    for n in range(ARRIVALS):
        user, _ = User.objects.update_or_create(
            username=f"taithu.dangnhap{n + 1:02d}", defaults={"password": password, "first_name": f"Đăng nhập {n + 1}"}
        )
        Role.objects.get_or_create(user=user, area=communes[n % len(communes)], kind=RoleKind.OFFICER)
        arrivals.append({"username": user.username})
    return {
        "password": PASSWORD,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "year": YEAR,
        "set": criteria_set.code,
        "province": province.pk,
        "district": district.pk,
        "officers": officers,
        "reviewers": reviewers,
        "arrivals": arrivals,
    }


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=1))
