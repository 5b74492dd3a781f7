"""Every URL of the project × every role × own, sibling and parent areas: the status each one gets, and a
database left exactly as it was by every write that is refused.

The URLs come from the resolver, so a new one without a line in EXPECTATIONS fails `test_every_url_has_an_
expectation` with its name. Who may read and write each area is written out below by hand, on purpose
independently of areas/access.py, so that a mistake there shows here.

The world (tests/personas.py): Bắc Giang › Tân Yên › An Dương (with the village Đồng Lạng) and Song Vân;
Bắc Giang › Việt Yên; Tuyên Quang › Chiêm Hóa › Hùng Mỹ. For the officer of An Dương, An Dương is its own
area, Song Vân a sibling and Tân Yên the parent; for the Tân Yên reviewer and viewer, Việt Yên is a sibling
and Bắc Giang the parent; for the Bắc Giang reviewer, Tuyên Quang is a sibling and the nation (the national
dashboard) the parent. Every area-scoped URL is tried on the areas of AREAS that fit it.
"""

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Max
from django.test import TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from areas.models import Role, RoleKind
from criteria import evidence as criteria_evidence
from criteria import services as criteria_services
from criteria.models import CriteriaSet, Indicator, IndicatorResult
from imports import services as wizard_services
from plans import services as plan_services
from plans.models import FundingSource
from reports.models import ExportJob, JobStatus
from tests.personas import PASSWORD, build_world, make_user

YEAR = 2024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MEDIA = tempfile.mkdtemp(prefix="ntm-test-matrix-")

ANONYMOUS = "anonymous"
PERSONAS = [
    ANONYMOUS,
    "officer_an_duong",
    "officer_song_van",
    "reviewer_tan_yen",
    "reviewer_bac_giang",
    "viewer_tan_yen",
    "officer_hung_my",
    "nobody",
    "admin",
    # Administrator of An Dương and viewer of Tân Yên: edits An Dương, reads Tân Yên, audits An Dương only.
    "admin_an_duong_viewer_tan_yen",
]
MIXED = "admin_an_duong_viewer_tan_yen"

# ---------------------------------------------------------------- who may read and write each area

_TAN_YEN_COMMUNE_READERS = {"reviewer_tan_yen", "reviewer_bac_giang", "viewer_tan_yen", "admin", MIXED}
READERS = {
    "an_duong": {"officer_an_duong", *_TAN_YEN_COMMUNE_READERS},
    "an_duong_village": {"officer_an_duong", *_TAN_YEN_COMMUNE_READERS},
    "song_van": {"officer_song_van", *_TAN_YEN_COMMUNE_READERS},
    "tan_yen": _TAN_YEN_COMMUNE_READERS,
    "viet_yen": {"reviewer_bac_giang", "admin"},
    "bac_giang": {"reviewer_bac_giang", "admin"},
    "hung_my": {"officer_hung_my", "admin"},
    "tuyen_quang": {"admin"},
}
EDITORS = {
    "an_duong": {"officer_an_duong", "admin", MIXED},
    "an_duong_village": {"officer_an_duong", "admin", MIXED},
    "song_van": {"officer_song_van", "admin"},
    "tan_yen": {"admin"},
    "viet_yen": {"admin"},
    "bac_giang": {"admin"},
    "hung_my": {"officer_hung_my", "admin"},
    "tuyen_quang": {"admin"},
}
# Reviewers verify and appraise communes strictly below their own area.
REVIEWERS = {
    "an_duong": {"reviewer_tan_yen", "reviewer_bac_giang"},
    "song_van": {"reviewer_tan_yen", "reviewer_bac_giang"},
    "hung_my": set(),
}
# Export jobs are private to the person who asked for them (while they may still see the area).
JOB_OWNERS = {
    "an_duong": "officer_an_duong",
    "song_van": "officer_song_van",
    "tan_yen": "reviewer_tan_yen",
    "bac_giang": "reviewer_bac_giang",
    "hung_my": "officer_hung_my",
}


def anyone(persona, area):
    return True


def logged_in(persona, area):
    return persona != ANONYMOUS


def superuser(persona, area):
    return persona == "admin"


def audits(persona, area):
    return persona in {"admin", MIXED}


def reads(persona, area):
    return persona in READERS[area]


def edits(persona, area):
    return persona in EDITORS[area]


def edits_or_reviews(persona, area):
    return edits(persona, area) or persona in REVIEWERS[area]


def owns_job(persona, area):
    return JOB_OWNERS[area] == persona


def uploaded(persona, area):
    return persona == "officer_an_duong"


def no_one(persona, area):
    return False


AREAS = tuple(READERS)
NOT_VILLAGES = tuple(a for a in AREAS if a != "an_duong_village")
COMMUNES = ("an_duong", "song_van", "hung_my")
WITH_PLANS = ("an_duong", "song_van", "tan_yen", "bac_giang", "hung_my")


@dataclass(frozen=True)
class Expect:
    """What one URL answers.

    get: who gets 200 on GET (everyone else logged in gets 404), or a status every logged-in user gets (405
    for write-only URLs). post: who may POST (everyone else gets 404 and nothing changes); None if the URL
    does not write. login: anonymous users are sent to the login page (False: answered like anyone).
    Lines for URLs not (yet) in the project are simply unused.
    """

    get: object
    post: object = None
    areas: tuple = ("",)
    args: object = None  # (fixtures, area name) → URL kwargs
    query: str = ""
    data: object = None  # (fixtures, area name, persona) → POST data
    login: bool = True
    ok: frozenset = field(default=frozenset({200, 302}))
    # What a refused writer who may see the area gets: 404 by default; 302 where the page explains the refusal.
    refused_visible: int = 404


def area_id(fx, area):
    return {"area_id": fx.areas[area].pk}


def criterion_args(fx, area):
    return {"area_id": fx.areas[area].pk, "criterion_id": fx.criterion.pk}


def indicator_args(fx, area):
    return {"area_id": fx.areas[area].pk, "indicator_id": fx.indicator.pk}


def evidence_args(fx, area):
    return {"area_id": fx.areas[area].pk, "evidence_id": fx.evidence[area].pk}


def plan_args(fx, area):
    return {"plan_id": fx.plans[area].pk}


def item_args(fx, area):
    return {"item_id": fx.items[area].pk}


def job_args(fx, area):
    return {"job_id": fx.jobs[area].pk}


def review_args(fx, area):
    return {"area_id": fx.areas[area].pk, "token": fx.import_token}


def wizard_args(fx, area):
    return {"area_id": fx.areas[area].pk, "token": fx.wizard_token}


def indicator_data(fx, area, persona):
    current = IndicatorResult.objects.filter(area=fx.areas[area], indicator=fx.indicator, year=YEAR).first()
    prefix = f"i{fx.indicator.pk}"
    return {
        f"{prefix}-value": "55,5",
        f"{prefix}-note": "ghi chú",
        f"{prefix}-version": current.version if current else 0,
    }


def item_data(fx, area, persona):
    return {
        "form_token": str(uuid.uuid4()),
        "title": "Nội dung mới",
        "status": "not_started",
        "progress": "10",
        "deadline": "Quý II/2024",
        "funding-TOTAL_FORMS": "1",
        "funding-INITIAL_FORMS": "0",
        "funding-0-source": fx.source.pk,
        "funding-0-planned": "1.250,5",
        "funding-0-disbursed": "0",
    }


EXPECTATIONS = {
    # accounts
    "login": Expect(get=anyone, login=False),
    "logout": Expect(get=405, post=anyone, login=False, data=lambda fx, area, persona: {}),
    "password_change": Expect(
        get=logged_in,
        post=logged_in,
        data=lambda fx, area, persona: {
            "old_password": PASSWORD,
            "new_password1": "mat-khau-moi-2025-rat-dai",
            "new_password2": "mat-khau-moi-2025-rat-dai",
        },
    ),
    "password_change_done": Expect(get=logged_in),
    # areas
    "home": Expect(get=logged_in),
    "area_detail": Expect(get=reads, areas=AREAS, args=area_id),
    # workspace
    "workspace": Expect(get=reads, areas=AREAS, args=area_id, query=f"?nam={YEAR}"),
    "workspace_criterion": Expect(get=reads, areas=COMMUNES, args=criterion_args, query=f"?nam={YEAR}"),
    "assess_criterion": Expect(
        get=405,
        post=edits,
        areas=COMMUNES,
        args=criterion_args,
        query=f"?nam={YEAR}",
        data=lambda fx, area, persona: {"status": "met", "note": "đã kiểm tra"},
    ),
    "edit_indicator": Expect(
        get=405, post=edits, areas=COMMUNES, args=indicator_args, query=f"?nam={YEAR}", data=indicator_data
    ),
    "indicator_history": Expect(get=reads, areas=COMMUNES, args=indicator_args, query=f"?nam={YEAR}"),
    "upload_evidence": Expect(
        get=405,
        post=edits,
        areas=COMMUNES,
        args=indicator_args,
        query=f"?nam={YEAR}",
        data=lambda fx, area, persona: {"file": SimpleUploadedFile("bien-ban.pdf", PDF)},
    ),
    "download_evidence": Expect(get=reads, areas=COMMUNES, args=evidence_args),
    # GET asks first; a deletion is undone only from the undo window (the matrix's file is not deleted: 404).
    "delete_evidence": Expect(
        get=edits, post=edits, areas=COMMUNES, args=evidence_args, data=lambda fx, area, persona: {}
    ),
    "undo_delete_evidence": Expect(
        get=405, post=no_one, areas=COMMUNES, args=evidence_args, data=lambda fx, area, persona: {}
    ),
    # plans
    "plan_list": Expect(get=reads, areas=AREAS, args=area_id),
    "overdue_items": Expect(get=reads, areas=AREAS, args=area_id),
    "due_items": Expect(get=reads, areas=AREAS, args=area_id),
    "plan_detail": Expect(get=reads, areas=WITH_PLANS, args=plan_args),
    "item_create": Expect(get=edits, post=edits, areas=WITH_PLANS, args=plan_args, data=item_data),
    "item_detail": Expect(
        get=reads,
        post=edits,
        areas=WITH_PLANS,
        args=item_args,
        data=lambda fx, area, persona: {
            "form_token": str(uuid.uuid4()),
            "date": "2024-03-15",
            "progress": "40",
            "done": "Đã đổ bê tông 200 m",
        },
    ),
    "item_edit": Expect(get=edits, post=edits, areas=WITH_PLANS, args=item_args, data=item_data),
    "place_suggestions": Expect(get=edits, areas=WITH_PLANS, args=plan_args),
    "my_items": Expect(get=logged_in),
    # dashboards and exports
    "dashboard_national": Expect(get=superuser),
    "dashboard": Expect(get=reads, areas=NOT_VILLAGES, args=area_id),
    "export_bieu": Expect(get=reads, areas=AREAS, args=area_id),
    "export_job": Expect(get=owns_job, areas=WITH_PLANS, args=job_args),
    "export_job_run": Expect(
        get=405, post=owns_job, areas=WITH_PLANS, args=job_args, data=lambda fx, area, persona: {}
    ),
    "export_job_download": Expect(get=owns_job, areas=WITH_PLANS, args=job_args),
    "import_bieu": Expect(
        get=edits,
        post=edits,
        areas=COMMUNES,
        args=area_id,
        data=lambda fx, area, persona: {"file": SimpleUploadedFile("bieu.xlsx", b"not a workbook")},
        ok=frozenset({200, 302, 400}),
    ),
    # An upload waiting for confirmation belongs to the officer of An Dương who sent it, in An Dương.
    "import_review": Expect(
        get=uploaded,
        post=uploaded,
        areas=("an_duong",),
        args=review_args,
        data=lambda fx, area, persona: {"cancel": "1"},
    ),
    # the import wizard (nhập số liệu từ Excel bất kỳ): officers and administrators of the area and of the
    # units above it; each step's upload belongs to the officer of An Dương who sent it, in An Dương.
    "wizard_upload": Expect(
        get=edits,
        post=edits,
        areas=(*COMMUNES, "tan_yen"),
        args=area_id,
        data=lambda fx, area, persona: {"file": SimpleUploadedFile("a.csv", b"TT,Ten xa\n")},
        ok=frozenset({200, 302, 400}),
    ),
    "wizard_sheet": Expect(get=uploaded, post=uploaded, areas=("an_duong",), args=wizard_args, data=lambda *a: {}),
    "wizard_mapping": Expect(get=uploaded, areas=("an_duong",), args=wizard_args),
    "wizard_preview": Expect(
        get=uploaded,
        post=uploaded,
        areas=("an_duong",),
        args=wizard_args,
        data=lambda fx, area, persona: {"cancel": "1"},
    ),
    "wizard_commit": Expect(get=405, post=uploaded, areas=("an_duong",), args=wizard_args, data=lambda *a: {}),
    # recognition (công nhận): a reader who may not take the step is sent back to the file with the reason
    "recognition_file": Expect(get=reads, areas=(*COMMUNES, "tan_yen"), args=area_id, query=f"?nam={YEAR}"),
    "recognition_step": Expect(
        get=405,
        post=edits,
        areas=COMMUNES,
        args=area_id,
        query=f"?nam={YEAR}",
        data=lambda fx, area, persona: {"action": "submit", "comment": "Đề nghị thẩm tra", "version": "0"},
        refused_visible=302,
    ),
    # Reviewers may move the planned months of a commune's file.
    "recognition_details": Expect(
        get=405,
        post=edits_or_reviews,
        areas=COMMUNES,
        args=area_id,
        query=f"?nam={YEAR}",
        data=lambda fx, area, persona: {"satisfaction_rate": "92,5", "survey_note": "1.120/1.215 phiếu", "version": ""},
        refused_visible=302,
    ),
    "recognition_list": Expect(
        get=reads, areas=("tan_yen", "viet_yen", "bac_giang", "tuyen_quang"), args=area_id, query=f"?nam={YEAR}"
    ),
    # audit
    "audit": Expect(get=audits),
}


def build_matrix_world():
    """tests/personas.py's world plus the persona with mixed roles."""
    w = build_world()
    setattr(w, MIXED, make_user("quantri.anduong", w.an_duong, RoleKind.ADMIN))
    Role.objects.create(user=getattr(w, MIXED), area=w.tan_yen, kind=RoleKind.VIEWER)
    return w


def project_patterns(resolvers=None, prefix=""):
    """(name or route, full route) of every URL pattern, following includes; the admin site is left out."""
    found = []
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue
            found += project_patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append((entry.name or route, route))
    return found


def snapshot():
    """Row counts, latest updates and password hashes of every table the project writes: a refused write
    must leave all of them as they were (history tables included, so a refused save cannot hide)."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"areas", "criteria", "plans", "assignments", "reports", "recognition", "auth"}:
            continue
        rows = model._default_manager.order_by()
        state[model._meta.label] = rows.count()
        names = {f.name for f in model._meta.concrete_fields}
        if "updated_at" in names:
            state[model._meta.label + ".updated_at"] = rows.aggregate(m=Max("updated_at"))["m"]
    state["passwords"] = sorted(get_user_model().objects.values_list("pk", "password"))
    state["items"] = sorted(
        apps.get_model("plans", "PlanItem").objects.values_list("pk", "title", "progress", "status", "deadline_label")
    )
    return state


@pytest.mark.slow
@override_settings(MEDIA_ROOT=MEDIA, NTM_EXPORT_WORKER=False)
class AccessMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_matrix_world()
        fx = cls.fx = SimpleNamespace(areas={name: getattr(w, name) for name in AREAS})
        commune_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        fx.indicator = Indicator.objects.in_set(commune_set).get(code="17.8")
        fx.criterion = fx.indicator.criterion
        fx.source = FundingSource.objects.active().first()
        with override_settings(MEDIA_ROOT=MEDIA):
            fx.evidence = {
                name: criteria_evidence.add_evidence(
                    area=fx.areas[name],
                    indicator=fx.indicator,
                    year=YEAR,
                    upload=SimpleUploadedFile("bien-ban.pdf", PDF),
                    user=w.admin,
                )
                for name in COMMUNES
            }
            fx.jobs = {}
            for name, owner in JOB_OWNERS.items():
                job = ExportJob(user=getattr(w, owner), area=fx.areas[name], form="01", year=YEAR)
                job.file.save("bieu.xlsx", ContentFile(b"PK\x03\x04 workbook"), save=False)
                job.file_name, job.status = "Bieu01.xlsx", JobStatus.DONE
                job.save()
                fx.jobs[name] = job
            fx.import_token = cls.stored_import(w.officer_an_duong, w.an_duong)
            fx.wizard_token = wizard_services.store(
                {"sheets": [{"name": n, "hidden": False, "rows": [[1, ["TT", "Kết quả"]]]} for n in ("a", "b")]},
                user=w.officer_an_duong,
                area=w.an_duong,
            )
        fx.plans, fx.items = {}, {}
        for name in WITH_PLANS:
            fx.plans[name] = plan_services.create_plan(
                user=w.admin, area=fx.areas[name], data=plan_services.PlanData(title=f"Kế hoạch {name}", year=YEAR)
            )
            fx.items[name] = plan_services.add_item(
                user=w.admin,
                plan=fx.plans[name],
                data=plan_services.ItemData(title=f"Nội dung {name}"),
                funding=[plan_services.FundingInput(fx.source, "100")],
            )
        criteria_services.record_indicator_result(
            area=w.an_duong, indicator=fx.indicator, year=YEAR, user=w.officer_an_duong, value=90
        )

    @classmethod
    def stored_import(cls, user, area):
        """A real Biểu 01 of the area, exported then uploaded, waiting for its dry run."""
        import io

        from reports import bieu, bieu_import

        out = io.BytesIO()
        bieu.export(out, form="01", area=area, year=YEAR)
        return bieu_import.store_upload(SimpleUploadedFile("bieu01.xlsx", out.getvalue()), user=user, area=area)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    def login_as(self, persona):
        self.client.logout()
        if persona != ANONYMOUS:
            self.client.force_login(getattr(self.w, persona))

    def cases(self, method):
        """(url name, persona, area name, Expect) for every URL that answers `method`."""
        for name, _route in project_patterns():
            expect = EXPECTATIONS.get(name)
            if expect is None or (method == "post" and expect.post is None):
                continue
            for area in expect.areas:
                for persona in PERSONAS:
                    yield name, persona, area, expect

    def url(self, name, area, expect):
        kwargs = expect.args(self.fx, area) if expect.args else {}
        return reverse(name, kwargs=kwargs) + expect.query

    def assert_sent_to_login(self, response):
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(reverse("login")), response["Location"])

    def test_every_url_has_an_expectation(self):
        missing = [f"{name} ({route})" for name, route in project_patterns() if name not in EXPECTATIONS]
        self.assertEqual(missing, [], "URLs with no line in EXPECTATIONS of tests/test_access_matrix.py")

    def test_get(self):
        for name, persona, area, expect in self.cases("get"):
            with self.subTest(url=name, persona=persona, area=area):
                self.login_as(persona)
                response = self.client.get(self.url(name, area, expect))
                if persona == ANONYMOUS and expect.login:
                    self.assert_sent_to_login(response)
                elif isinstance(expect.get, int):
                    self.assertEqual(response.status_code, expect.get)
                else:
                    self.assertEqual(response.status_code, 200 if expect.get(persona, area) else 404)

    def test_post(self):
        for name, persona, area, expect in self.cases("post"):
            with self.subTest(url=name, persona=persona, area=area):
                self.login_as(persona)
                allowed = expect.post(persona, area) and not (persona == ANONYMOUS and expect.login)
                # Each request runs in a savepoint that is rolled back, so every case starts from the same data.
                with transaction.atomic():
                    before = snapshot()
                    response = self.client.post(
                        self.url(name, area, expect), expect.data(self.fx, area, persona), HTTP_HOST="testserver"
                    )
                    if allowed:
                        self.assertIn(response.status_code, expect.ok)
                    else:
                        self.assertEqual(snapshot(), before, "a refused write changed the database")
                        if persona == ANONYMOUS and expect.login:
                            self.assert_sent_to_login(response)
                        elif area and reads(persona, area):
                            self.assertEqual(response.status_code, expect.refused_visible)
                        else:
                            self.assertEqual(response.status_code, 404)
                    transaction.set_rollback(True)


class AdminSiteTests(TestCase):
    """The admin site is for staff only: everyone else is sent to its login page, and its pages 404 nothing."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_matrix_world()

    def test_only_staff_reach_the_admin(self):
        for persona in PERSONAS:
            with self.subTest(persona=persona):
                self.client.logout()
                if persona != ANONYMOUS:
                    self.client.force_login(getattr(self.w, persona))
                response = self.client.get(reverse("admin:index"))
                if persona == "admin":
                    self.assertEqual(response.status_code, 200)
                else:
                    self.assertEqual(response.status_code, 302)
                    self.assertTrue(response["Location"].startswith(reverse("admin:login")))


class ReformReachTests(TestCase):
    """Roles across the 2025 reform: a role on a unit formed by a merge reads — never edits — the units it was
    formed from; a role held on a unit when it was abolished ends on the unit's last valid day."""

    @classmethod
    def setUpTestData(cls):
        import datetime

        from areas.models import Area, AreaSuccession, Level
        from tests.personas import make_area

        cls.w = w = build_world()
        reform = datetime.date(2025, 7, 1)
        last_day = datetime.date(2025, 6, 30)
        # The old map: Tân Yên and its communes end on 30/6/2025 and become xã Nhã Nam of the new Bắc Ninh.
        Area.objects.filter(pk__in=[w.tan_yen.pk, w.an_duong.pk, w.song_van.pk]).update(valid_until=last_day)
        new_bac_ninh = Area.objects.provinces().get(code="24", valid_from=reform)
        cls.nha_nam = make_area("T-07306", "Nhã Nam", Level.COMMUNE, new_bac_ninh, "xã", valid_from=reform)
        AreaSuccession.objects.create(old=w.an_duong, new=cls.nha_nam, on=reform)
        cls.officer_nha_nam = make_user("canbo.nhanam", cls.nha_nam, RoleKind.OFFICER)
        # The Tân Yên reviewer and viewer held their roles before the district was abolished.
        Role.objects.filter(area=w.tan_yen).update(created_at=datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC))
        commune_set = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.indicator = Indicator.objects.in_set(commune_set).get(code="17.8")
        criteria_services.record_indicator_result(
            area=w.an_duong, indicator=cls.indicator, year=2019, user=w.admin, value=80
        )

    def workspace_2019(self, area):
        return reverse("workspace", args=[area.pk]) + "?nam=2019&bo=xa_ntm_2016_2020"

    def test_officer_of_a_new_commune_reads_the_old_communes_2019_workspace(self):
        self.client.force_login(self.officer_nha_nam)
        response = self.client.get(self.workspace_2019(self.w.an_duong))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "An Dương")

    def test_officer_of_a_new_commune_cannot_change_the_old_communes_results(self):
        self.client.force_login(self.officer_nha_nam)
        url = reverse("edit_indicator", args=[self.w.an_duong.pk, self.indicator.pk]) + "?nam=2019&bo=xa_ntm_2016_2020"
        current = IndicatorResult.objects.get(area=self.w.an_duong, indicator=self.indicator, year=2019)
        prefix = f"i{self.indicator.pk}"
        response = self.client.post(
            url, {f"{prefix}-value": "95", f"{prefix}-version": current.version}, HTTP_HOST="testserver"
        )
        self.assertEqual(response.status_code, 404)
        current.refresh_from_db()
        self.assertEqual(current.value, 80)

    def test_the_new_commune_reaches_only_the_units_it_was_formed_from(self):
        self.client.force_login(self.officer_nha_nam)
        self.assertEqual(self.client.get(self.workspace_2019(self.w.song_van)).status_code, 404)
        self.assertEqual(self.client.get(reverse("area_detail", args=[self.w.tan_yen.pk])).status_code, 404)

    def test_a_role_on_an_abolished_district_ends_after_its_last_day(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        self.assertEqual(self.client.get(reverse("area_detail", args=[self.w.tan_yen.pk])).status_code, 404)
        self.assertEqual(self.client.get(self.workspace_2019(self.w.an_duong)).status_code, 404)
        # The role stays, as the history of who held it.
        self.assertTrue(Role.objects.filter(user=self.w.reviewer_tan_yen, area=self.w.tan_yen).exists())

    def test_an_ended_role_is_no_longer_listed_on_the_home_page(self):
        self.client.force_login(self.w.viewer_tan_yen)
        response = self.client.get(reverse("home"))
        self.assertNotContains(response, reverse("area_detail", args=[self.w.tan_yen.pk]))
