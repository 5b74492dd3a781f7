"""python manage.py bench — the figures of docs/PERFORMANCE.md, one `name value unit` line each.

Pages are rendered through Django's test Client (the whole middleware stack, sessions and templates), with
the users a real request would have. Each page is also compared with the bare aggregate SQL it needs,
written here as plain QuerySets, so that `ratio_vs_sql` says what the Python and the templates add.
"""

import contextlib
import datetime
import functools
import importlib.util
import io
import os
import re
import statistics
import time
import tracemalloc
from unittest import mock

import tablib
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, Q, Sum
from django.db.models.functions import Cast
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell

from areas import timeline
from areas.models import Area, Level, Role, RoleKind
from criteria import results_import
from criteria.judging import Measurement
from criteria.models import CommuneStanding, CriterionResult, IndicatorKind, IndicatorResult, Status
from dashboards import figures
from ntm_portal.spreadsheets import SafeXLSX
from ntm_portal.vietnamese import vn_number
from plans.models import CLOSED_STATUSES, FundingLine, PlanItem
from reports import bieu
from reports.bieu import form01, form02, form03, form05, form07
from reports.bieu import sheet as bieu_sheet

BENCH_USERS = "bench."
SECTIONS = ("dashboards", "exports", "imports", "workspace")


# The writer's functions the forms call (reports/bieu/form*.py); `Sheet` methods are timed on the class.
WRITER_FUNCTIONS = ("start_workbook", "finish_sheet", "save", "section")
WRITER_METHODS = ("append", "formula", "spanning")


def _writer_seconds(export, runs):
    """Median time an export spends inside the Biểu writer: the outermost calls into it, so that the writer's
    own calls to itself (`finish_sheet` appending rows) count once."""
    spent = [0.0]
    depth = [0]

    def clocked(func):
        @functools.wraps(func)
        def run(*args, **kwargs):
            if depth[0]:
                return func(*args, **kwargs)
            depth[0] += 1
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started
                depth[0] -= 1

        return run

    with contextlib.ExitStack() as patches:
        for module in (form01, form02, form03, form05, form07):
            for name in WRITER_FUNCTIONS:
                if hasattr(module, name):
                    patches.enter_context(mock.patch.object(module, name, clocked(getattr(module, name))))
        for name in WRITER_METHODS:
            patches.enter_context(mock.patch.object(bieu_sheet.Sheet, name, clocked(getattr(bieu_sheet.Sheet, name))))
        times = []
        for _i in range(runs):
            spent[0] = 0.0
            export()
            times.append(spent[0])
    return statistics.median(times)


class Bench:
    def __init__(self, write, runs):
        self.write = write
        self.runs = runs

    def line(self, name, value, unit):
        if isinstance(value, float):
            value = f"{value:.4f}" if value < 10 else f"{value:.1f}"
        self.write(f"{name} {value} {unit}")

    def timed(self, func):
        """Median wall time of `runs` calls after one warm-up call, and the result of the last one."""
        result = func()
        times = []
        for _i in range(self.runs):
            started = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - started)
        return statistics.median(times), result

    def timed_cpu(self, func):
        """Like `timed`, with the median CPU time of this process (time.process_time) beside the wall time: what
        the request costs Django and the templates, without the database server's own work or waiting."""
        result = func()
        times, cpu = [], []
        for _i in range(self.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = func()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        return statistics.median(times), statistics.median(cpu), result

    def rounds(self, funcs):
        """{name: median wall time} of `funcs` (name -> callable) and {(a, b): median over the rounds of a's time ÷
        b's}, each called once as a warm-up, then once per round for `runs` rounds, in turns: on a machine shared
        with other jobs, a file's import and the bulk_create it is compared with then run under the same load (one
        run of each moved their ratio by ±15 % between runs minutes apart)."""
        times = {name: [] for name in funcs}
        for func in funcs.values():
            func()
        for _i in range(self.runs):
            for name, func in funcs.items():
                started = time.perf_counter()
                func()
                times[name].append(time.perf_counter() - started)
        medians = {name: statistics.median(t) for name, t in times.items()}

        def ratio(a, b):
            return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

        return medians, ratio

    def queries(self, func):
        with CaptureQueriesContext(connection) as ctx:
            func()
        return len(ctx.captured_queries)


def _bench_year():
    """The latest year with results on a map that has districts (the old map's last year when both maps were
    generated), else the latest year with results."""
    with_districts = CriterionResult.objects.filter(area__level=Level.COMMUNE, area__district__isnull=False)
    return with_districts.aggregate(y=Max("year"))["y"] or figures.latest_year(None)


def _user(username, *, area=None, kind=None, superuser=False):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_superuser": superuser, "is_staff": superuser}
    )
    if area is not None:
        Role.objects.get_or_create(user=user, area=area, kind=kind)
    return user


def _merged(areas):
    """Of `areas`, the units formed from more than one old unit, most first (`n`: how many)."""
    return areas.annotate(n=Count("succession_from")).filter(n__gt=1).order_by("-n", "code")


def _client(user):
    # The Client's default host "testserver" is not in ALLOWED_HOSTS outside the test runner.
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


_CODE = re.compile(r"^\d{1,2}\.\d{1,2}$")  # the indicator codes a wide table's headings are read as


def _cell(result):
    """A result as an office types it in a wide table: Đạt / Không đạt, 90,3 as a number, 1276/1413."""
    if result is None:
        return None
    if result.not_applicable:
        return "Không áp dụng"
    if result.boolean is not None:
        return "Đạt" if result.boolean else "Không đạt"
    if result.numerator is not None and result.denominator:
        return f"{result.numerator:g}/{result.denominator:g}"
    return None if result.value is None else float(result.value)


def _wide_workbook(communes, codes, values, year):
    """A district's summary as offices make it: one row per commune, one column per indicator code."""
    book = Workbook()
    sheet = book.active
    sheet.append([f"TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ NĂM {year}"])
    sheet.append(["TT", "Mã xã", "Tên xã", *codes])
    for number, commune in enumerate(communes, 1):
        sheet.append([number, commune.code, commune.name, *[_cell(values.get((commune.pk, c))) for c in codes]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _get(client, url, **headers):
    def call():
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise CommandError(f"{url}: HTTP {response.status_code}")
        return response

    return call


def _through_bieu(data, area, user):
    """(seconds of the upload, the dry run and the confirmation, the confirmed changes), rolled back."""
    from reports import bieu_import

    with transaction.atomic():
        started = time.perf_counter()
        token = bieu_import.store_upload(SimpleUploadedFile("bieu.xlsx", data), user=user, area=area)
        uploaded = time.perf_counter()
        upload = bieu_import.stored_upload(token, user=user, area=area)
        found = bieu_import.preview(upload, area=area, user=user)
        if not found.ok:
            raise CommandError(f"Biểu {found.form}: ô sai {found.bad_cells[:3]}")
        checked = time.perf_counter()
        found = bieu_import.confirm(token, area=area, user=user, fingerprint=found.fingerprint)
        confirmed = time.perf_counter()
        transaction.set_rollback(True)
    return (uploaded - started, checked - uploaded, confirmed - checked), found


def _bieu_peak_memory(data, area, user):
    """Peak memory (MiB, tracemalloc) of the dry run and of the confirmation of `data`, rolled back."""
    from reports import bieu_import

    def peak(step):
        tracemalloc.start()
        try:
            return step(), tracemalloc.get_traced_memory()[1] / 1_048_576
        finally:
            tracemalloc.stop()

    with transaction.atomic():
        token = bieu_import.store_upload(SimpleUploadedFile("bieu.xlsx", data), user=user, area=area)
        upload = bieu_import.stored_upload(token, user=user, area=area)
        found, dry_run = peak(lambda: bieu_import.preview(upload, area=area, user=user))
        _found, confirm = peak(lambda: bieu_import.confirm(token, area=area, user=user, fingerprint=found.fingerprint))
        transaction.set_rollback(True)
    return dry_run, confirm


def _rolled_back(func):
    """`func` made to run inside a transaction that is rolled back: the bench leaves the data as it found it."""

    def run():
        with transaction.atomic():
            func()
            transaction.set_rollback(True)

    return run


def _handed_over(source, year, note=None):
    """What the importers hand the service for `source` results re-entered for `year`: the rows read from the file,
    areas and indicators resolved (and `note` on every row when given)."""
    noted = {} if note is None else {"note": note}
    return [
        {
            "line": line,
            "area": r.area,
            "indicator": r.indicator,
            "year": year,
            **{name: getattr(r, name) for name in results_import.IMPORTED_FIELDS},
            **noted,
        }
        for line, r in enumerate(source, 1)
    ]


def _bare_items(found):
    """bulk_create of the same items and funding lines, without checks or history, rolled back."""
    from plans.models import FundingLine, PlanItem

    with transaction.atomic():
        started = time.perf_counter()
        writes = [change.item_write for change in found.changes]
        items = PlanItem.objects.bulk_create(
            [
                # A row that changes an existing item is written as a new item of the same plan.
                PlanItem(
                    plan_id=w.plan.pk if w.plan else w.item.plan_id, title=w.data.title, area=w.data.area, position=n
                )
                for n, w in enumerate(writes)
            ],
            batch_size=1000,
        )
        FundingLine.objects.bulk_create(
            [
                FundingLine(item=item, source=entry.source, planned=entry.planned)
                for item, w in zip(items, writes, strict=True)
                for entry in w.funding
            ],
            batch_size=1000,
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


class Command(BaseCommand):
    help = (
        "Đo hiệu năng: bảng điều khiển, xuất Biểu 01, nhập kết quả, không gian làm việc (mỗi dòng: tên giá_trị đơn_vị)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--quick", action="store_true", help="Một lần đo mỗi mục, ít dòng nhập; chạy trên dữ liệu có sẵn."
        )
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument(
            "--only",
            choices=SECTIONS,
            action="append",
            help="Chỉ đo mục này (có thể lặp lại): " + ", ".join(SECTIONS) + ".",
        )

    def handle(self, *args, quick, runs, import_rows, only, **options):
        only = set(only or SECTIONS)
        runs = 1 if quick else runs
        import_rows = min(import_rows, 50) if quick else import_rows
        bench = Bench(self.stdout.write, runs)
        year = _bench_year()
        criteria_set = figures.choose_set(figures.commune_sets(), "", year)
        if criteria_set is None:
            raise CommandError(f"Không có bộ tiêu chí xã cho năm {year}.")
        province, district, commune = self._targets(year, criteria_set)
        bench.line("data.communes", Area.objects.communes().valid_on(timeline.reporting_date(year)).count(), "communes")
        bench.line("data.indicator_results", IndicatorResult.objects.count(), "rows")
        bench.line("data.criterion_results", CriterionResult.objects.count(), "rows")
        bench.line("data.year", year, "year")
        # The machine's load when the figures were taken (1-minute average; compare with the number of cores).
        bench.line("machine.cores", os.cpu_count(), "cores")
        bench.line("machine.load_at_start", os.getloadavg()[0], "load")
        if "dashboards" in only:
            self.dashboards(bench, year, criteria_set, province, district)
        if "exports" in only:
            self.exports(bench, year, province, district, commune)
        if "imports" in only:
            self.imports(bench, year, criteria_set, import_rows)
            self.wizard(bench, year, criteria_set, province, import_rows)
        if "workspace" in only:
            self.workspace(bench, year, criteria_set, commune)
            self.admin_lists(bench)
        bench.line("machine.load_at_end", os.getloadavg()[0], "load")

    def _targets(self, year, criteria_set):
        """The province and district with the most communes, and a commune of that district with results."""
        communes = Area.objects.communes().valid_on(timeline.reporting_date(year))
        top_province = communes.values("province_id").annotate(n=Count("pk")).order_by("-n", "province_id").first()
        top_district = (
            communes.filter(district__isnull=False)
            .values("district_id")
            .annotate(n=Count("pk"))
            .order_by("-n", "district_id")
            .first()
        )
        if not top_province or not top_district:
            raise CommandError("Chưa có dữ liệu: chạy python manage.py generate_scale trước.")
        province = Area.objects.get(pk=top_province["province_id"])
        district = Area.objects.get(pk=top_district["district_id"])
        with_results = CriterionResult.objects.for_set(criteria_set, year).values("area_id")
        commune = communes.under(district).filter(pk__in=with_results).order_by("code").first()
        if commune is None:
            raise CommandError(f"Không có xã nào của {district} có kết quả năm {year}.")
        return province, district, commune

    # ---------------------------------------------------------------- dashboards

    def core_sql(self, area, criteria_set, year):
        """The aggregates a dashboard of `area` (None: the nation) cannot do without, as bare QuerySets. Where the
        communes stand (criteria met, carried over; failures per criterion; the matrix) is read from the stored
        standings (criteria.models.CommuneStanding), as the pages do."""
        communes = timeline.communes_at(area, timeline.reporting_date(year)).queryset()
        stood = CommuneStanding.objects.filter(area__in=communes, criteria_set=criteria_set, year=year)
        numbers = list(criteria_set.criteria.values_list("number", flat=True))
        today = timezone.localdate()
        items = PlanItem.objects.all() if area is None else PlanItem.objects.under(area)
        lines = FundingLine.objects.counted()
        if area is not None:
            lines = lines.under(area)
        failing = {f"c{n}": Sum(Cast(F("failing").bitrightshift(n - 1).bitand(1), IntegerField())) for n in numbers}
        queries = [
            stood.values("area__province_id", "met").annotate(n=Count("pk")),
            stood.values("criteria_set").annotate(**failing),
            communes.values("pk", "name", "kind", "province_id", "district_id"),
            items.overdue(today).values("pk")[: figures.LIST_LIMIT],
            items.due_in_month(today).values("pk")[: figures.LIST_LIMIT],
            lines.totals_by_source(),
        ]
        counts = [items.overdue(today), items.due_in_month(today)]
        if area is not None:
            # The matrix shows every commune's status on every criterion.
            queries.append(stood.values_list("area_id", "statuses"))
            # Criteria met last year and missed this year, and the reverse.
            queries.append(
                CriterionResult.objects.filter(
                    area__in=communes, criterion__criteria_set=criteria_set, year__in=[year - 1, year]
                )
                .values("area_id", "criterion_id")
                .annotate(
                    dropped=Count("pk", filter=Q(year=year - 1, status=Status.MET))
                    + Count("pk", filter=Q(year=year, status=Status.NOT_MET)),
                    gained=Count("pk", filter=Q(year=year - 1, status=Status.NOT_MET))
                    + Count("pk", filter=Q(year=year, status=Status.MET)),
                )
                .filter(Q(dropped=2) | Q(gained=2))
            )

        def run():
            # .all(): a fresh QuerySet each run, else the runs after the warm-up read the first one's cache.
            for query in queries:
                list(query.all())
            for query in counts:
                query.count()

        return run

    def bare_sql(self, area, criteria_set, year):
        """The same aggregates as `core_sql`, written by hand as plain SQL with the filters that use the indexes
        (the area's communes as `area_id IN (SELECT id FROM area WHERE <ancestor>_id = X)`, the plan's area the
        same way), run through a cursor: the floor a page's `ratio_vs_bare_sql` is measured against. Not the
        pages' own QuerySets, so a plan the ORM makes badly shows on the page's side only. Where the communes stand
        is read from the stored standings, the cheapest hand-written SQL for those figures (carried over): before
        they were stored, this read only the year's own results, a floor that did not carry statuses over."""
        area_t, result_t, criterion_t = Area._meta.db_table, CriterionResult._meta.db_table, "criteria_criterion"
        item_t, plan_t, line_t = PlanItem._meta.db_table, "plans_plan", FundingLine._meta.db_table
        source_t = FundingLine._meta.get_field("source").related_model._meta.db_table
        day = timeline.reporting_date(year)
        today = timezone.localdate()
        first = today.replace(day=1)
        last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        in_force = "(a.valid_from IS NULL OR a.valid_from <= %s) AND (a.valid_until IS NULL OR a.valid_until >= %s)"
        if area is None:
            communes = f"SELECT a.id FROM {area_t} a WHERE a.level = 'commune' AND {in_force}"
            communes_params = [day, day]
            plan_areas, plan_params = None, []
        else:
            column = {Level.PROVINCE: "province_id", Level.DISTRICT: "district_id"}[area.level]
            communes = f"SELECT a.id FROM {area_t} a WHERE a.{column} = %s AND a.level = 'commune' AND {in_force}"
            communes_params = [area.pk, day, day]
            plan_areas = f"SELECT a.id FROM {area_t} a WHERE a.id = %s OR a.{column} = %s"
            plan_params = [area.pk, area.pk]
        in_set = f"cr.criterion_id IN (SELECT id FROM {criterion_t} WHERE criteria_set_id = %s)"
        stood = (
            f"FROM {CommuneStanding._meta.db_table} s WHERE s.area_id IN ({communes}) "
            "AND s.criteria_set_id = %s AND s.year = %s"
        )
        stood_params = [*communes_params, criteria_set.pk, year]
        numbers = list(criteria_set.criteria.values_list("number", flat=True))
        failing = ", ".join(f"SUM(CAST((s.failing >> {n - 1}) & 1 AS integer))" for n in numbers)
        closed = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)
        items = f"FROM {item_t} i WHERE i.status NOT IN ({closed})"
        if plan_areas:
            items += f" AND i.plan_id IN (SELECT id FROM {plan_t} WHERE area_id IN ({plan_areas}))"
        lines_where = f"l.item_id IN (SELECT i.id FROM {item_t} i WHERE i.status <> 'cancelled'"
        if plan_areas:
            lines_where += f" AND i.plan_id IN (SELECT id FROM {plan_t} WHERE area_id IN ({plan_areas}))"
        lines_where += ")"
        limit = figures.LIST_LIMIT
        statements = [
            (
                f"SELECT a.province_id, s.met, COUNT(*) FROM {area_t} a JOIN {CommuneStanding._meta.db_table} s "
                f"ON s.area_id = a.id WHERE a.id IN ({communes}) AND s.criteria_set_id = %s AND s.year = %s "
                "GROUP BY a.province_id, s.met",
                stood_params,
            ),
            (f"SELECT {failing} {stood}", stood_params),
            (
                f"SELECT a.id, a.name, a.kind, a.province_id, a.district_id FROM {area_t} a WHERE a.id IN ({communes})",
                communes_params,
            ),
            (
                f"SELECT i.id {items} AND i.deadline_date < %s ORDER BY i.deadline_date LIMIT {limit}",
                [*plan_params, today],
            ),
            (
                f"SELECT i.id {items} AND i.deadline_date BETWEEN %s AND %s ORDER BY i.deadline_date LIMIT {limit}",
                [*plan_params, first, last],
            ),
            (f"SELECT COUNT(*) {items} AND i.deadline_date < %s", [*plan_params, today]),
            (f"SELECT COUNT(*) {items} AND i.deadline_date BETWEEN %s AND %s", [*plan_params, first, last]),
            (
                f"SELECT s.id, s.code, s.name, SUM(l.planned), SUM(l.disbursed) FROM {line_t} l "
                f"JOIN {source_t} s ON s.id = l.source_id WHERE {lines_where} "
                "GROUP BY s.id, s.code, s.name, s.position ORDER BY s.position, s.code",
                plan_params,
            ),
        ]
        if area is not None:
            statements.append((f"SELECT s.area_id, s.statuses {stood}", stood_params))
            statements.append(
                (
                    "SELECT cr.area_id, cr.criterion_id FROM "
                    f"{result_t} cr WHERE cr.area_id IN ({communes}) AND {in_set} AND cr.year IN (%s, %s) "
                    "GROUP BY cr.area_id, cr.criterion_id HAVING "
                    "SUM(CASE WHEN (cr.year = %s AND cr.status = 'met') OR (cr.year = %s AND cr.status = 'not_met') "
                    "THEN 1 ELSE 0 END) = 2 OR "
                    "SUM(CASE WHEN (cr.year = %s AND cr.status = 'not_met') OR (cr.year = %s AND cr.status = 'met') "
                    "THEN 1 ELSE 0 END) = 2",
                    [*communes_params, criteria_set.pk, year - 1, year, year - 1, year, year - 1, year],
                )
            )

        def run():
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        return run

    def dashboards(self, bench, year, criteria_set, province, district):
        admin = _user(f"{BENCH_USERS}superuser", superuser=True)
        pages = [
            ("national", None, admin),
            (
                "province",
                province,
                _user(f"{BENCH_USERS}reviewer.{province.pk}", area=province, kind=RoleKind.REVIEWER),
            ),
            (
                "district",
                district,
                _user(f"{BENCH_USERS}reviewer.{district.pk}", area=district, kind=RoleKind.REVIEWER),
            ),
        ]
        query = f"?nam={year}&bo={criteria_set.code}"
        for name, area, user in pages:
            url = (reverse("dashboard", args=[area.pk]) if area else reverse("dashboard_national")) + query
            page = _get(_client(user), url)
            seconds, cpu, _response = bench.timed_cpu(page)
            sql_seconds, _none = bench.timed(self.core_sql(area, criteria_set, year))
            bare_seconds, _none = bench.timed(self.bare_sql(area, criteria_set, year))
            bench.line(f"dashboard.{name}.time", seconds, "s")
            bench.line(f"dashboard.{name}.cpu", cpu, "s")
            bench.line(f"dashboard.{name}.queries", bench.queries(page), "queries")
            bench.line(f"dashboard.{name}.sql_time", sql_seconds, "s")
            bench.line(f"dashboard.{name}.ratio_vs_sql", seconds / sql_seconds, "ratio")
            bench.line(f"dashboard.{name}.bare_sql_time", bare_seconds, "s")
            bench.line(f"dashboard.{name}.ratio_vs_bare_sql", seconds / bare_seconds, "ratio")
        self.new_province_over_old_year(bench, year, criteria_set)

    def new_province_over_old_year(self, bench, year, criteria_set):
        """The dashboard of a province formed on 1/7/2025 (`generate_scale --map both`) for `year`, a year before
        it existed: the old communes it was formed from, each once, grouped under the communes they became."""
        day = timeline.reporting_date(year)
        new = _merged(Area.objects.provinces().filter(valid_from__gt=day))
        province = scope = None
        for candidate in new:
            scope = timeline.communes_at(candidate, day)
            if scope.ids:
                province = candidate
                break
        if province is None:
            bench.line("dashboard.new_province_old_year.skipped", 1, "flag")
            return
        user = _user(f"{BENCH_USERS}reviewer.{province.pk}", area=province, kind=RoleKind.REVIEWER)
        url = reverse("dashboard", args=[province.pk]) + f"?nam={year}&bo={criteria_set.code}"
        page = _get(_client(user), url)
        seconds, cpu, _response = bench.timed_cpu(page)
        sql_seconds, _none = bench.timed(self.core_sql(province, criteria_set, year))
        bench.line("dashboard.new_province_old_year.communes", len(scope.ids), "communes")
        bench.line("dashboard.new_province_old_year.time", seconds, "s")
        bench.line("dashboard.new_province_old_year.cpu", cpu, "s")
        bench.line("dashboard.new_province_old_year.queries", bench.queries(page), "queries")
        bench.line("dashboard.new_province_old_year.ratio_vs_sql", seconds / sql_seconds, "ratio")
        self.merged_commune(bench, year, criteria_set, province)

    def merged_commune(self, bench, year, criteria_set, province):
        """The pages of a commune of `province` formed by a merge, as its officer: its dashboard for `year` (before
        it existed: what the communes it was formed from stood at, and their history beside its own) and its
        workspace (its own year, with the history of the communes it was formed from a link away)."""
        commune = _merged(Area.objects.communes().filter(province=province)).first()
        if commune is None:
            bench.line("dashboard.merged_commune.skipped", 1, "flag")
            return
        officer = _user(f"{BENCH_USERS}officer.{commune.pk}", area=commune, kind=RoleKind.OFFICER)
        client = _client(officer)
        bench.line("dashboard.merged_commune.formed_from", commune.n, "communes")
        pages = {
            "dashboard.merged_commune.old_year": reverse("dashboard", args=[commune.pk])
            + f"?nam={year}&bo={criteria_set.code}",
            "dashboard.merged_commune.own_year": reverse("dashboard", args=[commune.pk]),
            "workspace.merged_commune": reverse("workspace", args=[commune.pk]),
        }
        for name, url in pages.items():
            page = _get(client, url)
            seconds, cpu, _response = bench.timed_cpu(page)
            bench.line(f"{name}.time", seconds, "s")
            bench.line(f"{name}.cpu", cpu, "s")
            bench.line(f"{name}.queries", bench.queries(page), "queries")

    # ---------------------------------------------------------------- Biểu 01

    def exports(self, bench, year, province, district, commune):
        targets = [("bieu01.national", None, "01")]
        for level, area in (("province", province), ("district", district), ("commune", commune)):
            targets += [(f"bieu{f.code}.{level}", area, f.code) for f in bieu.forms_for(area)]
        for name, area, form in targets:

            def export(area=area, form=form):
                out = io.BytesIO()
                rows = bieu.export(out, form=form, area=area, year=year)
                return out, rows

            try:
                export()
            except bieu.ExportError:  # e.g. Biểu 05/06 without village results
                bench.line(f"{name}.skipped", 1, "flag")
                continue
            seconds, (out, rows) = bench.timed(export)
            with CaptureQueriesContext(connection) as ctx:
                export()
            sql_seconds = sum(float(q["time"]) for q in ctx.captured_queries)
            writer_seconds = _writer_seconds(export, bench.runs)
            tracemalloc.start()
            tracemalloc.reset_peak()
            export()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            workbook = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
            # Every cell the export writes, blank ones included: its blank cells carry the table's borders,
            # and plain openpyxl skips a None, so a blank is written as "" to give both the same cells.
            cells = [["" if v is None else v for v in r] for r in workbook.active.values]
            workbook.close()

            def plain(cells=cells):
                workbook = Workbook(write_only=True)
                sheet = workbook.create_sheet()
                for row in cells:
                    sheet.append(row)
                workbook.save(io.BytesIO())

            plain_seconds, _none = bench.timed(plain)
            bench.line(f"{name}.rows", rows, "rows")
            bench.line(f"{name}.cells", sum(len(r) for r in cells), "cells")
            bench.line(f"{name}.time", seconds, "s")
            bench.line(f"{name}.rows_per_s", rows / max(seconds, 1e-9), "rows/s")
            bench.line(f"{name}.peak_memory", peak / 1_048_576, "MiB")
            bench.line(f"{name}.plain_openpyxl_time", plain_seconds, "s")
            bench.line(f"{name}.ratio_vs_openpyxl", seconds / plain_seconds, "ratio")
            bench.line(f"{name}.sql_time", sql_seconds, "s")
            # The workbook writer alone (reports/bieu/sheet.py: header block, rows, signature block, styles, page
            # set-up, the hidden sheet, the zip) against plain openpyxl writing the same cells; what is left of
            # the time is the form reading and preparing its data (queries, judging, labels).
            bench.line(f"{name}.writer_time", writer_seconds, "s")
            bench.line(f"{name}.prepare_time", seconds - writer_seconds - sql_seconds, "s")
            bench.line(f"{name}.writer_ratio_vs_openpyxl", writer_seconds / plain_seconds, "ratio")
            # The figure of issue 19 before the writer was timed on its own: everything but the SQL.
            bench.line(f"{name}.without_sql_ratio_vs_openpyxl", (seconds - sql_seconds) / plain_seconds, "ratio")
        self.admin_export(bench)

    def admin_export(self, bench, rows=20_000):
        """The admin's XLSX export of `rows` indicator results (what "Xuất ra tệp" writes for a province's two
        years), against plain openpyxl write-only writing the same cells."""
        from criteria.resources import IndicatorResultResource

        resource = IndicatorResultResource()
        results = resource.get_queryset().order_by("pk")[:rows]
        dataset = resource.export(results, force_native_type=True)

        def export():
            return SafeXLSX().export_data(resource.export(results, force_native_type=True))

        def plain():
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet()
            sheet.append(dataset.headers)
            for row in dataset:
                sheet.append(list(row))
            workbook.save(io.BytesIO())

        seconds, _content = bench.timed(export)
        plain_seconds, _none = bench.timed(plain)
        bench.line("admin_export.rows", len(dataset), "rows")
        bench.line("admin_export.time", seconds, "s")
        bench.line("admin_export.rows_per_s", len(dataset) / seconds, "rows/s")
        bench.line("admin_export.ratio_vs_openpyxl", seconds / plain_seconds, "ratio")

    # ---------------------------------------------------------------- import

    def imports(self, bench, year, criteria_set, limit):
        """Results of `limit` commune × indicator pairs re-entered for a year with no results yet, through
        the import path there is, against bulk_create of the same rows; both rolled back."""
        if importlib.util.find_spec("reports.bieu_import") is not None:
            bench.line("import.bieu_import_present", 1, "flag")
        from criteria.resources import IndicatorResultResource

        # The most rows one file may hold under its heading row (NTM_IMPORT_MAX_ROWS counts every row read).
        limit = min(limit, settings.NTM_IMPORT_MAX_ROWS - 1)
        target_year = criteria_set.period_start
        taken = set(IndicatorResult.objects.filter(year=target_year).values_list("area_id", flat=True).distinct())
        source = list(
            IndicatorResult.objects.filter(
                year=year, indicator__criterion__criteria_set=criteria_set, area__level=Level.COMMUNE
            )
            .exclude(area_id__in=taken)
            .select_related("area", "indicator__criterion__criteria_set")
            .order_by("area_id", "indicator_id")[:limit]
        )
        if not source:
            bench.line("import.skipped", 1, "flag")
            return
        dataset = IndicatorResultResource().export(source)
        del dataset["Năm"]
        dataset.append_col([target_year] * len(dataset), header="Năm")
        workbook = io.BytesIO(dataset.export("xlsx"))

        resource_rows = min(len(dataset), 1000)
        resource_dataset = dataset.subset(rows=range(resource_rows)) if resource_rows < len(dataset) else dataset
        resource_workbook = io.BytesIO(resource_dataset.export("xlsx"))
        importer_user = _user(f"{BENCH_USERS}importer", superuser=True)

        def through_resource():
            resource_workbook.seek(0)
            loaded = SafeXLSX().create_dataset(resource_workbook.read())
            result = IndicatorResultResource().import_data(loaded, dry_run=False, raise_errors=True, user=importer_user)
            assert not result.has_validation_errors()

        def through_service_write():
            results_import.import_indicator_results(rows=_handed_over(source, target_year), user=importer_user)

        def through_service_rewrite():
            # The same file again, corrected (a note on every row): every result it names is updated. Only the
            # second import is timed.
            through_service_write()
            corrected = _handed_over(source, target_year, note="Nhập lại")
            started = time.perf_counter()
            results_import.import_indicator_results(rows=corrected, user=importer_user)
            rewrite_seconds.append(time.perf_counter() - started)

        rewrite_seconds = []

        def through_service():
            # The file read as well, as the admin's import reads it (checked, then python-calamine), then the service.
            workbook.seek(0)
            SafeXLSX().create_dataset(workbook.read())
            through_service_write()

        def through_bulk_create():
            IndicatorResult.objects.bulk_create(
                [
                    IndicatorResult(
                        area_id=r.area_id,
                        indicator_id=r.indicator_id,
                        year=target_year,
                        value=r.value,
                        numerator=r.numerator,
                        denominator=r.denominator,
                        boolean=r.boolean,
                        not_applicable=r.not_applicable,
                        assessed_status=r.assessed_status,
                        status=r.status,
                        computed_status=r.computed_status,
                    )
                    for r in source
                ],
                batch_size=2000,
            )

        seconds, ratio = bench.rounds(
            {
                "service": _rolled_back(through_service),
                "write": _rolled_back(through_service_write),
                "bulk": _rolled_back(through_bulk_create),
                "resource": _rolled_back(through_resource),
                "rewrite": _rolled_back(through_service_rewrite),
            }
        )
        rewrite = statistics.median(rewrite_seconds[1:])  # the rounds' own, not the warm-up's
        rows = len(source)
        for name, value, unit in (
            ("import.path", "results_import.import_indicator_results", "path"),
            ("import.rows", rows, "rows"),
            ("import.rounds", bench.runs, "rounds"),
            ("import.time", seconds["service"], "s"),
            ("import.rows_per_s", rows / seconds["service"], "rows/s"),
            ("import.bulk_create_rows_per_s", rows / seconds["bulk"], "rows/s"),
            ("import.ratio_vs_bulk_create", ratio("service", "bulk"), "ratio"),
            # The service alone (checks, judging, history, criterion rows, standings) against bulk_create: the
            # figure above also counts reading the workbook, which bulk_create's side does not.
            ("import.service_write_rows_per_s", rows / seconds["write"], "rows/s"),
            ("import.service_write_ratio_vs_bulk_create", ratio("write", "bulk"), "ratio"),
            # A file imported again over the results it wrote (a correction), every row updated.
            ("import.rewrite_rows_per_s", rows / rewrite, "rows/s"),
            # The admin's import adds import-export's per-row lookups and diff to the same service.
            ("import.admin_resource.rows", resource_rows, "rows"),
            ("import.admin_resource.rows_per_s", resource_rows / seconds["resource"], "rows/s"),
        ):
            bench.line(name, value, unit)
        self.bieu_imports(bench, year, target_year, importer_user, rows=min(3000, limit))
        self.admin_items(bench, importer_user, rows=min(1000, limit))
        self.admin_units(bench, importer_user, rows=min(1000, limit))

    def admin_items(self, bench, user, rows=1000):
        """The admin's import of plan items (PlanItemResource): `rows` stored items exported, their progress changed
        and imported back, rolled back."""
        from plans.admin import PlanItemResource

        items = PlanItem.objects.order_by("pk")[:rows]
        dataset = PlanItemResource().export(items)
        progress = dataset.headers.index("Tiến độ (%)")
        edited = tablib.Dataset(
            *[[*row[:progress], int(row[progress] or 0) % 100 + 1, *row[progress + 1 :]] for row in dataset],
            headers=dataset.headers,
        )
        data = SafeXLSX().export_data(edited)

        def through_admin():
            # The import itself, as `import.admin_resource` times the results' (its preview takes about as long).
            result = PlanItemResource().import_data(SafeXLSX().create_dataset(data), dry_run=False, user=user)
            if result.has_errors() or result.has_validation_errors():
                raise CommandError("Nhập nội dung kế hoạch qua trang quản trị: có dòng lỗi.")

        seconds, _none = bench.timed(_rolled_back(through_admin))
        bench.line("import.admin_items.rows", len(edited), "rows")
        bench.line("import.admin_items.rows_per_s", len(edited) / seconds, "rows/s")

    def admin_units(self, bench, user, rows=1000):
        """The admin's import of administrative units (AreaResource): `rows` stored communes exported, each renamed
        and imported back (the round after a change of names), rolled back."""
        from areas.resources import AreaResource

        units = Area.objects.communes().select_related("parent", "region").order_by("pk")[:rows]
        dataset = AreaResource().export(units)
        name = dataset.headers.index("Tên")
        renamed = tablib.Dataset(
            *[[*row[:name], f"{row[name]} (mới)", *row[name + 1 :]] for row in dataset], headers=dataset.headers
        )
        data = SafeXLSX().export_data(renamed)

        def through_admin():
            result = AreaResource().import_data(SafeXLSX().create_dataset(data), dry_run=False, user=user)
            if result.has_errors() or result.has_validation_errors() or result.totals["update"] != len(renamed):
                raise CommandError("Nhập đơn vị hành chính qua trang quản trị: có dòng lỗi.")

        seconds, _none = bench.timed(_rolled_back(through_admin))
        bench.line("import.admin_units.rows", len(renamed), "rows")
        bench.line("import.admin_units.rows_per_s", len(renamed) / seconds, "rows/s")

    def bieu_imports(self, bench, year, target_year, user, rows=3000):
        """The Biểu imports as an officer uses them — upload (cells read once), dry run, confirm — rolled back:
        Biểu 03 of a commune's plan with new lines of work added up to `rows` rows (each with money from two
        sources), and Biểu 01 of a commune with no results in `target_year` filled with its `year` results.
        Cells are rows × the columns the import reads."""
        from plans.models import FundingSource, Plan

        plan = Plan.objects.filter(year=year, area__level=Level.COMMUNE).select_related("area").order_by("pk").first()
        if plan is None:
            bench.line("import.bieu03.skipped", 1, "flag")
        else:
            sources = list(FundingSource.objects.active().order_by("position", "code"))
            data = self._bieu03_with_rows(plan.area, year, rows, sources[:2])
            # Rounds of the import and of bulk_create of its rows, interleaved, after a warm-up: medians of each.
            runs = []
            for _round in range(bench.runs + 1):
                seconds, found = _through_bieu(data, plan.area, user)
                runs.append((*seconds, _bare_items(found)))
            upload, dry, confirm, bare = (statistics.median(step) for step in zip(*runs[1:], strict=True))
            cells = len(found.changes) * (3 + len(sources))  # STT, title, place and one column per source
            bench.line("import.bieu03.rows", len(found.changes), "rows")
            bench.line("import.bieu03.cells", cells, "cells")
            bench.line("import.bieu03.upload_time", upload, "s")
            bench.line("import.bieu03.dry_run_time", dry, "s")
            bench.line("import.bieu03.confirm_time", confirm, "s")
            bench.line("import.bieu03.confirm_cells_per_s", cells / confirm, "cells/s")
            bench.line("import.bieu03.cells_per_s", cells / (upload + dry + confirm), "cells/s")
            bench.line("import.bieu03.bulk_create_time", bare, "s")
            bench.line("import.bieu03.confirm_ratio_vs_bulk_create", confirm / bare, "ratio")
            # Memory: the dry run holds every change it lists for review, the confirmation every row it writes;
            # a tenth of the rows beside the whole shows how that grows.
            for count, label in ((rows // 10, "tenth"), (rows, "all")):
                dry_peak, confirm_peak = _bieu_peak_memory(
                    data if count == rows else self._bieu03_with_rows(plan.area, year, count, sources[:2]),
                    plan.area,
                    user,
                )
                bench.line(f"import.bieu03.{label}.rows", count, "rows")
                bench.line(f"import.bieu03.{label}.dry_run_peak_memory", dry_peak, "MiB")
                bench.line(f"import.bieu03.{label}.confirm_peak_memory", confirm_peak, "MiB")
        taken = IndicatorResult.objects.filter(year=target_year).values("area_id")
        first = (
            IndicatorResult.objects.filter(year=year, area__level=Level.COMMUNE)
            .exclude(area_id__in=taken)
            .order_by("area_id")
            .values_list("area_id", flat=True)
            .first()
        )
        if first is None:
            bench.line("import.bieu01.skipped", 1, "flag")
            return
        commune = Area.objects.get(pk=first)
        data = self._bieu01_filled(commune, year, target_year)
        # A file of one commune takes a tenth of a second: the median of the runs, each step's own.
        runs = [_through_bieu(data, commune, user) for _i in range(bench.runs + 1)][1:]
        steps = zip(*(seconds for seconds, _found in runs), strict=True)
        upload, dry, confirm = (statistics.median(step) for step in steps)
        found = runs[-1][1]
        bench.line("import.bieu01.cells", len(found.changes), "cells")
        bench.line("import.bieu01.dry_run_time", dry, "s")
        bench.line("import.bieu01.confirm_time", confirm, "s")
        bench.line("import.bieu01.cells_per_s", len(found.changes) / (upload + dry + confirm), "cells/s")

    def _bieu03_with_rows(self, area, year, rows, sources):
        out = io.BytesIO()
        bieu.export(out, form="03", area=area, year=year)
        out.seek(0)
        book = load_workbook(out)
        sheet = book.worksheets[0]
        heading = next(r for r in range(1, 20) if sheet.cell(row=r, column=1).value == "STT")
        names = {c.value: c.column for r in range(heading, heading + 3) for c in sheet[r] if c.value}
        columns = [names[s.name] for s in sources]
        total = next(r for r in range(heading, sheet.max_row + 1) if sheet.cell(row=r, column=2).value == "TỔNG CỘNG")
        for merged in list(sheet.merged_cells.ranges):
            if merged.min_row > heading + 1:
                sheet.unmerge_cells(str(merged))
        added = rows
        sheet.insert_rows(total, added)
        for n in range(added):
            sheet.cell(row=total + n, column=2).value = f"Việc thêm {n + 1}"
            for k, column in enumerate(columns):
                sheet.cell(row=total + n, column=column).value = 10 + n % 50 + k
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def _bieu01_filled(self, commune, year, target_year):
        def sheet_of(y):
            out = io.BytesIO()
            bieu.export(out, form="01", area=commune, year=y)
            out.seek(0)
            book = load_workbook(out)
            return book, book.worksheets[0]

        _book, source = sheet_of(year)
        book, sheet = sheet_of(target_year)
        heading = next(r for r in range(1, 20) if sheet.cell(row=r, column=1).value == "STT")
        result = next(c.column for r in range(heading, heading + 3) for c in sheet[r] if c.value == "Kết quả")
        for row in range(heading + 1, sheet.max_row + 1):
            cell = sheet.cell(row=row, column=result)
            if (
                not isinstance(cell, MergedCell)
                and sheet.cell(row=row, column=1).value == source.cell(row=row, column=1).value
            ):
                cell.value = source.cell(row=row, column=result).value
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    # ---------------------------------------------------------------- import wizard

    def wizard(self, bench, year, criteria_set, province, cells):
        """A wide workbook of about `cells` values (the province's communes × the set's indicator codes, the
        values of `year` re-entered for a year with no results) through the whole wizard as the province's
        officer — read, dry run with every cell checked and judged, commit (which checks it all again) — against
        the bulk write alone (criteria.results_import, judged, with history) and a bare bulk_create of the same
        rows; each rolled back."""
        from imports import services as wizard_services

        target_year = criteria_set.period_start
        taken = set(IndicatorResult.objects.filter(year=target_year).values_list("area_id", flat=True).distinct())
        communes = [c for c in wizard_services.communes_in_scope(None, province, target_year) if c.pk not in taken]
        codes = [code for code in wizard_services.catalogue_for(criteria_set).indicators if _CODE.match(code)]
        if not communes or not codes:
            bench.line("import.wizard.skipped", 1, "flag")
            return
        communes = communes[: -(-cells // len(codes))]
        values = {
            (r.area_id, r.indicator.code): r
            for r in IndicatorResult.objects.filter(
                area__in=communes, year=year, indicator__code__in=codes, indicator__criterion__criteria_set=criteria_set
            ).select_related("indicator")
        }
        data = _wide_workbook(communes, codes, values, target_year)
        officer = _user(f"{BENCH_USERS}officer.{province.pk}", area=province, kind=RoleKind.OFFICER)
        found = {}

        def through_wizard():
            kind, token = wizard_services.start(SimpleUploadedFile("tong-hop.xlsx", data), user=officer, area=province)
            upload = wizard_services.stored(token, user=officer, area=province)
            wizard_services.update_state(upload, year=target_year, set=criteria_set.code, layout="wide")
            preview = wizard_services.preview(upload, area=province, user=officer)
            if not preview.ok:
                raise CommandError(
                    f"Thuật sĩ nhập: ô sai {preview.bad_cells[:3]}, tên xã chưa rõ {preview.ambiguities[:3]}"
                )
            found["rows"] = preview.indicator_rows
            wizard_services.commit(token, area=province, user=officer, fingerprint=preview.fingerprint)

        def through_bulk_write():
            results_import.import_indicator_results(rows=found["rows"], user=officer)

        def through_bulk_create():
            IndicatorResult.objects.bulk_create(
                [
                    IndicatorResult(
                        area=row["area"],
                        indicator=row["indicator"],
                        year=row["year"],
                        **{name: row.get(name) for name in Measurement.names()},
                        assessed_status=row["assessed_status"],
                        note=row["note"],
                    )
                    for row in found["rows"]
                ],
                batch_size=2000,
            )

        # The wizard's run finds the rows the two others write (`found`): it goes first in each round.
        seconds, ratio = bench.rounds(
            {
                "wizard": _rolled_back(through_wizard),
                "write": _rolled_back(through_bulk_write),
                "bare": _rolled_back(through_bulk_create),
            }
        )
        written = len(found["rows"])
        bench.line("import.wizard.communes", len(communes), "communes")
        bench.line("import.wizard.cells", written, "cells")
        bench.line("import.wizard.rounds", bench.runs, "rounds")
        bench.line("import.wizard.time", seconds["wizard"], "s")
        bench.line("import.wizard_cells_per_s", written / seconds["wizard"], "cells/s")
        bench.line("import.bulk_write_cells_per_s", written / seconds["write"], "cells/s")
        bench.line("import.bulk_create_cells_per_s", written / seconds["bare"], "cells/s")
        bench.line("import.wizard_ratio_vs_bulk_write", ratio("wizard", "write"), "ratio")
        bench.line("import.wizard_ratio_vs_bulk_create", ratio("wizard", "bare"), "ratio")
        bench.line("import.bulk_write_ratio_vs_bulk_create", ratio("write", "bare"), "ratio")

    # ---------------------------------------------------------------- workspace

    def admin_lists(self, bench):
        """The admin's longest lists as an administrator opens them (the first page, newest year first)."""
        client = _client(_user(f"{BENCH_USERS}superuser", superuser=True))
        for name, url in (
            ("indicator_results", reverse("admin:criteria_indicatorresult_changelist")),
            ("criterion_results", reverse("admin:criteria_criterionresult_changelist")),
            ("plan_items", reverse("admin:plans_planitem_changelist")),
            ("funding_lines", reverse("admin:plans_fundingline_changelist")),
        ):
            page = _get(client, url)
            seconds, _response = bench.timed(page)
            bench.line(f"admin.{name}_list.time", seconds, "s")
            bench.line(f"admin.{name}_list.queries", bench.queries(page), "queries")

    def workspace(self, bench, year, criteria_set, commune):
        officer = _user(f"{BENCH_USERS}officer.{commune.pk}", area=commune, kind=RoleKind.OFFICER)
        client = _client(officer)
        query = f"?nam={year}&bo={criteria_set.code}"
        login_form = _get(Client(HTTP_HOST="localhost"), reverse("login"))
        seconds, cpu, _response = bench.timed_cpu(login_form)
        bench.line("login_form.time", seconds, "s")
        bench.line("login_form.cpu", cpu, "s")
        page = _get(client, reverse("workspace", args=[commune.pk]) + query)
        seconds, cpu, _response = bench.timed_cpu(page)
        bench.line("workspace.page.time", seconds, "s")
        bench.line("workspace.page.cpu", cpu, "s")
        bench.line("workspace.page.queries", bench.queries(page), "queries")

        result = (
            IndicatorResult.objects.filter(
                area=commune, year=year, value__isnull=False, numerator__isnull=True, not_applicable=False
            )
            .exclude(indicator__kind=IndicatorKind.BOOLEAN)
            .select_related("indicator__criterion")
            .order_by("indicator__criterion__number", "indicator__sort_key")
            .first()
        )
        if result is None:
            bench.line("workspace.save.skipped", 1, "flag")
            return
        indicator = result.indicator
        page = _get(client, reverse("workspace_criterion", args=[commune.pk, indicator.criterion_id]) + query)
        seconds, cpu, _response = bench.timed_cpu(page)
        bench.line("workspace.criterion_page.time", seconds, "s")
        bench.line("workspace.criterion_page.cpu", cpu, "s")
        bench.line("workspace.criterion_page.queries", bench.queries(page), "queries")
        url = reverse("edit_indicator", args=[commune.pk, indicator.pk]) + query
        prefix = f"i{indicator.pk}"

        def save():
            current = IndicatorResult.objects.get(pk=result.pk)
            data = {
                f"{prefix}-value": vn_number(current.value),
                f"{prefix}-note": f"đo lúc {time.perf_counter():.3f}",
                f"{prefix}-version": current.version,
            }
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.post(url, data, headers={"HX-Request": "true"})
            elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            if response.status_code != 200:
                raise CommandError(f"{url}: HTTP {response.status_code}")
            return elapsed, cpu

        save()
        times = [save() for _i in range(bench.runs)]
        with CaptureQueriesContext(connection) as ctx:
            save()
        # The version read before each post is the bench's own query, not the page's.
        bench.line("workspace.save.time", statistics.median(t for t, _cpu in times), "s")
        bench.line("workspace.save.cpu", statistics.median(cpu for _t, cpu in times), "s")
        bench.line("workspace.save.queries", len(ctx.captured_queries) - 1, "queries")
