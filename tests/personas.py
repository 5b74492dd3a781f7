"""The people and places tests speak of, built once per test class.

Bắc Giang › Tân Yên › An Dương, Song Vân (seed 001); Tuyên Quang › Chiêm Hóa › Hùng Mỹ (seed 003, a
special-difficulty commune in TDMNPB). Users: an officer of An Dương, an officer of Song Vân, a Tân Yên
reviewer, a Bắc Giang reviewer, a Tân Yên viewer, an officer of Hùng Mỹ, and an administrator.
"""

from types import SimpleNamespace

from django.contrib.auth import get_user_model

from areas.models import Area, Level, Region, Role, RoleKind

PASSWORD = "mat-khau-thu-nghiem-2024"


def make_area(code, name, level, parent=None, kind="", **extra):
    area = Area(code=code, name=name, level=level, parent=parent, kind=kind, **extra)
    area.full_clean()
    area.save()
    return area


def make_user(username, area=None, kind=None, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    if area is not None:
        Role.objects.create(user=user, area=area, kind=kind)
    return user


def build_world():
    """A small map and one user per role; returns a namespace of both."""
    w = SimpleNamespace()
    # Provinces come from the catalogue migration (63 before 1/7/2025, 34 after).
    w.bac_giang = Area.objects.provinces().get(code="24", valid_from__isnull=True)
    w.tuyen_quang = Area.objects.provinces().get(code="08", valid_from__isnull=True)
    w.tdmnpb = Region.objects.get(code="TDMNPB")
    w.tan_yen = make_area("T-219", "Tân Yên", Level.DISTRICT, w.bac_giang, "huyện")
    w.viet_yen = make_area("T-222", "Việt Yên", Level.DISTRICT, w.bac_giang, "huyện")
    w.an_duong = make_area("T-07234", "An Dương", Level.COMMUNE, w.tan_yen, "xã")
    w.song_van = make_area("T-07210", "Song Vân", Level.COMMUNE, w.tan_yen, "xã")
    w.tang_tien = make_area("T-07300", "Tăng Tiến", Level.COMMUNE, w.viet_yen, "xã")
    w.an_duong_village = make_area("T-07234-01", "Đồng Lạng", Level.VILLAGE, w.an_duong, "thôn")
    w.song_van_village = make_area("T-07210-01", "Chính Lan", Level.VILLAGE, w.song_van, "thôn")
    w.chiem_hoa = make_area("T-073", "Chiêm Hóa", Level.DISTRICT, w.tuyen_quang, "huyện")
    w.hung_my = make_area("T-02287", "Hùng Mỹ", Level.COMMUNE, w.chiem_hoa, "xã", special_difficulty=True)

    w.officer_an_duong = make_user(
        "canbo.anduong", w.an_duong, RoleKind.OFFICER, first_name="Lan", last_name="Nguyễn Thị"
    )
    w.officer_song_van = make_user(
        "canbo.songvan", w.song_van, RoleKind.OFFICER, first_name="Hùng", last_name="Trần Văn"
    )
    w.reviewer_tan_yen = make_user(
        "thamtra.tanyen", w.tan_yen, RoleKind.REVIEWER, first_name="Minh", last_name="Lê Văn"
    )
    w.reviewer_bac_giang = make_user("thamdinh.bacgiang", w.bac_giang, RoleKind.REVIEWER)
    w.viewer_tan_yen = make_user("xem.tanyen", w.tan_yen, RoleKind.VIEWER)
    w.officer_hung_my = make_user("canbo.hungmy", w.hung_my, RoleKind.OFFICER)
    w.admin = make_user("quantri", None, None, is_staff=True, is_superuser=True)
    w.nobody = make_user("khongvaitro")
    return w
