"""CSV / XLSX import and export of the catalogue and of indicator results, through the admin.

Indicators and thresholds are named by the set's code and the indicator's code, never by database ids, so
a file exported from one installation loads into another.
"""

import copy
from decimal import Decimal

from diff_match_patch import diff_match_patch
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.encoding import force_str
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from import_export import fields, instance_loaders, resources, widgets
from import_export.resources import Diff

from areas.models import Area, Region
from areas.resources import ChoiceWidget, LookupWidget
from criteria import evaluation, results_import, services
from criteria.judging import Measurement
from criteria.models import (
    AssessedStatus,
    Comparison,
    CriteriaSet,
    Criterion,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    Status,
    Threshold,
)
from ntm_portal.spreadsheets import ImportRowsMixin, KnownLookup, YearWidget, YesNoWidget
from ntm_portal.vietnamese import parse_vn_number

SET = "Bộ tiêu chí"
INDICATOR = "Mã chỉ tiêu"


class VnDecimalWidget(widgets.Widget):
    """Numbers written the Vietnamese way (1.276; 90,3), or as Excel numbers."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        try:
            return parse_vn_number(value)
        except ValueError:
            raise ValueError(
                _("'%(value)s' không phải là số (viết kiểu Việt Nam: 1.276 hoặc 90,3).") % {"value": value}
            )

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return formats.number_format(Decimal(value).normalize(), use_l10n=True, force_grouping=True)


class CriterionWidget(LookupWidget):
    """A criterion named by its set's code (column "Bộ tiêu chí") and its number."""

    def get_lookup_kwargs(self, value, row, **kwargs):
        return {"criteria_set__code": str(row.get(SET) or "").strip(), "number": value}

    def render(self, value, obj=None, **kwargs):
        return value.number if value else ""


class IndicatorWidget(LookupWidget):
    """An indicator named by its set's code (column "Bộ tiêu chí") and its code: "17.10" is not "17.1"."""

    def get_lookup_kwargs(self, value, row, **kwargs):
        return {"criterion__criteria_set__code": str(row.get(SET) or "").strip(), "code": str(value).strip()}

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


class SetColumn(fields.Field):
    """The set's code, written on export and only read by the lookups of other columns on import."""

    def __init__(self, path):
        super().__init__(attribute=path, column_name=SET, readonly=True)


class CriterionResource(ImportRowsMixin, resources.ModelResource):
    criteria_set = fields.Field(attribute="criteria_set", column_name=SET, widget=LookupWidget(CriteriaSet, "code"))
    number = fields.Field(attribute="number", column_name="Số tiêu chí", widget=widgets.IntegerWidget())
    name = fields.Field(attribute="name", column_name="Tên tiêu chí")
    group_code = fields.Field(attribute="group_code", column_name="Nhóm", default="")
    group_name = fields.Field(attribute="group_name", column_name="Tên nhóm", default="")
    verified = fields.Field(attribute="verified", column_name="Đã xác minh", widget=YesNoWidget())
    note = fields.Field(attribute="note", column_name="Ghi chú", default="")

    class Meta:
        model = Criterion
        import_id_fields = ("criteria_set", "number")
        fields = ("criteria_set", "number", "name", "group_code", "group_name", "verified", "note")
        clean_model_instances = True
        skip_unchanged = True

    def get_queryset(self):
        return Criterion.objects.select_related("criteria_set")


class IndicatorResource(ImportRowsMixin, resources.ModelResource):
    criteria_set = SetColumn("criterion__criteria_set__code")
    criterion = fields.Field(attribute="criterion", column_name="Số tiêu chí", widget=CriterionWidget(Criterion))
    code = fields.Field(attribute="code", column_name=INDICATOR)
    name = fields.Field(attribute="name", column_name="Tên chỉ tiêu")
    unit = fields.Field(attribute="unit", column_name="Đơn vị", default="")
    kind = fields.Field(attribute="kind", column_name="Loại", widget=ChoiceWidget(IndicatorKind))
    verified = fields.Field(attribute="verified", column_name="Đã xác minh", widget=YesNoWidget())
    note = fields.Field(attribute="note", column_name="Ghi chú", default="")

    class Meta:
        model = Indicator
        import_id_fields = ("criterion", "code")
        fields = ("criteria_set", "criterion", "code", "name", "unit", "kind", "verified", "note")
        clean_model_instances = True
        skip_unchanged = True

    def get_queryset(self):
        return Indicator.objects.select_related("criterion__criteria_set")

    def before_save_instance(self, instance, row, **kwargs):
        instance.sort_key = evaluation.natural_key(instance.code)


class ThresholdResource(ImportRowsMixin, resources.ModelResource):
    criteria_set = SetColumn("indicator__criterion__criteria_set__code")
    indicator = fields.Field(attribute="indicator", column_name=INDICATOR, widget=IndicatorWidget(Indicator))
    variant = fields.Field(
        attribute="variant", column_name="Bộ tiêu chí của tỉnh", widget=LookupWidget(CriteriaSet, "code")
    )
    region = fields.Field(attribute="region", column_name="Vùng", widget=LookupWidget(Region, "code"))
    commune_group = fields.Field(attribute="commune_group", column_name="Nhóm xã", default="")
    year = fields.Field(attribute="year", column_name="Năm", widget=YearWidget())
    raw = fields.Field(attribute="raw", column_name="Ngưỡng", default="")
    comparison = fields.Field(
        attribute="comparison", column_name="So sánh", widget=ChoiceWidget(Comparison), default=""
    )
    value = fields.Field(attribute="value", column_name="Giá trị", widget=VnDecimalWidget())
    verified = fields.Field(attribute="verified", column_name="Đã xác minh", widget=YesNoWidget(), default=False)
    source = fields.Field(attribute="source", column_name="Văn bản nguồn", default="")
    note = fields.Field(attribute="note", column_name="Ghi chú", default="")

    class Meta:
        model = Threshold
        import_id_fields = ("indicator", "variant", "region", "commune_group", "year")
        fields = ("criteria_set", *Threshold.WRITTEN_FIELDS)
        clean_model_instances = True
        skip_unchanged = True

    def get_queryset(self):
        return Threshold.objects.select_related("indicator__criterion__criteria_set", "variant", "region")

    def before_import(self, dataset, **kwargs):
        self.touched = set()  # before the columns are checked: after_import runs even when they are refused
        super().before_import(dataset, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        # A file that gives only the wording ("≤16,5%") gets its comparison read from it.
        if not instance.comparison:
            parsed = evaluation.parse_threshold(instance.raw)
            instance.comparison, instance.value = parsed.comparison, parsed.value
        instance._history_user = kwargs.get("user")

    def after_save_instance(self, instance, row, **kwargs):
        self.touched.add(instance.indicator_id)

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run"):
            return
        for indicator in Indicator.objects.filter(pk__in=self.touched):
            services.recompute(indicator=indicator, user=kwargs.get("user"))


def _year_of(row):
    try:
        return int(row.get("Năm"))
    except (TypeError, ValueError):
        return None


class KnownIndicatorWidget(KnownLookup, IndicatorWidget):
    """The results' indicator column: every indicator the file names read in one query."""

    def known_key(self, value, row):
        return (str(row.get(SET) or "").strip(), str(value).strip())

    def read_all(self, rows, column):
        pairs = {self.known_key(row.get(column), row) for row in rows}
        known = {}
        found = Indicator.objects.filter(
            criterion__criteria_set__code__in={s for s, _code in pairs}, code__in={c for _set, c in pairs}
        ).select_related("criterion__criteria_set")
        for indicator in found:
            known.setdefault((indicator.criterion.criteria_set.code, indicator.code), []).append(indicator)
        self.known = known


class AreaInYearWidget(KnownLookup, LookupWidget):
    """An area named by its code, among the units that existed in the row's year (the map changes)."""

    def get_queryset(self, value, row, *args, **kwargs):
        year = _year_of(row)
        return Area.objects.all() if year is None else Area.objects.in_year(year)

    def known_key(self, value, row):
        year = _year_of(row)
        return None if year is None else (str(value), year)

    def read_all(self, rows, column):
        """Every area the file names, per year: one query per year of the file."""
        known = {}
        codes_by_year = {}
        for row in rows:
            if (year := _year_of(row)) is not None and row.get(column) not in (None, ""):
                codes_by_year.setdefault(year, set()).add(str(row[column]))
        for year, codes in codes_by_year.items():
            for area in Area.objects.in_year(year).filter(code__in=codes):
                known.setdefault((area.code, year), []).append(area)
        self.known = known

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


def _dmp_escaped(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "&para;<br>")


class _RowDiff(Diff):
    """The preview's before → after of a row, as import-export's Diff shows it, with less work per row: every new
    row starts from the same blank instance, read once per import, and a value that is new or unchanged is written
    as diff-match-patch would write it ("<ins …>" / "<span>") without running it; only a changed value is diffed."""

    def __init__(self, resource, instance, new):
        self.new = new
        if new:
            if getattr(resource, "blank_values", None) is None:
                resource.blank_values = Diff._read_field_values(resource, instance)
            self.left = resource.blank_values
        else:
            self.left = Diff._read_field_values(resource, instance)
        self.right = []

    def as_html(self):
        html = []
        for before, after in zip(self.left, self.right, strict=False):
            if before == after:
                html.append(mark_safe(f"<span>{_dmp_escaped(str(after))}</span>") if after != "" else "")
            elif self.new or before == "":
                ins = f'<ins style="background:#e6ffe6;">{_dmp_escaped(str(after))}</ins>' if after != "" else ""
                html.append(mark_safe(ins))
            else:
                html.append(self._diffed(before, after))
        return html

    def _diffed(self, before, after):
        dmp = diff_match_patch()
        diff = dmp.diff_main(force_str(before), force_str(after))
        dmp.diff_cleanupSemantic(diff)
        return mark_safe(dmp.diff_prettyHtml(diff))


def _imported_values(result):
    return tuple(getattr(result, name) for name in results_import.IMPORTED_FIELDS)


class _StoredResults(instance_loaders.ModelInstanceLoader):
    """The stored results a file's rows may update, read in one query (the file's areas × indicators × years)
    instead of one per row."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.stored = None
        resource.stored_values = {}
        areas, indicators = resource.fields["area"].widget.known, resource.fields["indicator"].widget.known
        if areas is None or indicators is None:
            return
        years = {year for _code, year in areas}
        self.stored = {
            (r.area_id, r.indicator_id, r.year): r
            for r in self.get_queryset().filter(
                area_id__in={a.pk for found in areas.values() for a in found},
                indicator_id__in={i.pk for found in indicators.values() for i in found},
                year__in=years,
            )
        }
        # As stored, before the rows are read onto them: a row that gives a result its own values again is skipped.
        resource.stored_values = {key: _imported_values(r) for key, r in self.stored.items()}

    def get_instance(self, row):
        if self.stored is None:
            return super().get_instance(row)
        area, indicator, year = (field.clean(row) for field in self.fields)
        if area is None or indicator is None:
            return None
        return self.stored.get((area.pk, indicator.pk, year))


class IndicatorResultResource(ImportRowsMixin, resources.ModelResource):
    """Results in and out. Imported rows go through import_indicator_results: checked, evaluated and in the
    history, all of them or none."""

    area = fields.Field(attribute="area", column_name="Mã địa bàn", widget=AreaInYearWidget(Area, "code"))
    area_name = fields.Field(attribute="area__full_name", column_name="Tên địa bàn", readonly=True)
    criteria_set = SetColumn("indicator__criterion__criteria_set__code")
    indicator = fields.Field(attribute="indicator", column_name=INDICATOR, widget=KnownIndicatorWidget(Indicator))
    year = fields.Field(attribute="year", column_name="Năm", widget=YearWidget())
    value = fields.Field(attribute="value", column_name="Giá trị", widget=VnDecimalWidget())
    numerator = fields.Field(attribute="numerator", column_name="Tử số", widget=VnDecimalWidget())
    denominator = fields.Field(attribute="denominator", column_name="Mẫu số", widget=VnDecimalWidget())
    boolean = fields.Field(attribute="boolean", column_name="Đạt / Có", widget=YesNoWidget())
    not_applicable = fields.Field(
        attribute="not_applicable", column_name="Không áp dụng", widget=YesNoWidget(), default=False
    )
    assessed_status = fields.Field(
        attribute="assessed_status", column_name="Tự đánh giá", widget=ChoiceWidget(AssessedStatus), default=""
    )
    note = fields.Field(attribute="note", column_name="Ghi chú", default="")
    status = fields.Field(attribute="status", column_name="Kết quả", widget=ChoiceWidget(Status), readonly=True)
    is_tentative = fields.Field(
        attribute="is_tentative", column_name="Theo ngưỡng chưa xác minh", widget=YesNoWidget(), readonly=True
    )

    required_fields = ("area", "indicator", "year")

    class Meta:
        model = IndicatorResult
        import_id_fields = ("area", "indicator", "year")
        instance_loader_class = _StoredResults
        # Rows are collected, not saved one by one (save_instance): no savepoint per row.
        use_bulk = True
        fields = (
            "area",
            "area_name",
            "criteria_set",
            "indicator",
            "year",
            "value",
            "numerator",
            "denominator",
            "boolean",
            "not_applicable",
            "assessed_status",
            "note",
            "status",
            "is_tentative",
        )

    def get_queryset(self):
        return IndicatorResult.objects.select_related("area", "indicator__criterion__criteria_set")

    def get_diff_class(self):
        return _RowDiff

    def import_data(self, dataset, dry_run=False, **kwargs):
        # Only the preview (the dry run) shows each row's before → after; the real import shows counts. Without
        # a preview to show, import-export's skip_diff leaves out its copy of every instance and the row's diff
        # (a third of an admin import in cProfile). Set on this resource's own options, not the class's.
        if not dry_run and not self._meta.skip_diff:
            self._meta = copy.copy(self._meta)
            self._meta.skip_diff = True
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import(self, dataset, **kwargs):
        self.pending = []  # before the columns are checked: after_import runs even when they are refused
        super().before_import(dataset, **kwargs)
        rows = dataset.dict
        for name in ("area", "indicator"):
            field = self.fields[name]
            field.widget.read_all(rows, field.column_name)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # A row that gives a stored result its own values again is left alone, as the Biểu import and the wizard
        # leave it: no new version (an officer's form open on it would turn stale) and no history row of no change.
        if import_validation_errors or instance.pk is None:
            return False
        before = getattr(self, "stored_values", {}).get((instance.area_id, instance.indicator_id, instance.year))
        return before == _imported_values(instance)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Rows are only checked and collected here; after_import saves them all at once (or none).
        errors = Measurement.of(instance).errors(instance.indicator)
        if errors:
            raise ValidationError(errors)
        self.pending.append(
            {
                "line": kwargs.get("row_number"),
                "area": instance.area,
                "indicator": instance.indicator,
                "year": instance.year,
                **{name: getattr(instance, name) for name in results_import.IMPORTED_FIELDS},
            }
        )

    def after_import(self, dataset, result, **kwargs):
        # A dry run (the admin's preview) goes through the same checks inside the transaction that
        # import-export rolls back, so the preview shows the errors the real import would raise.
        if not self.pending or (not self._is_using_transactions(kwargs) and self._is_dry_run(kwargs)):
            return
        if result.has_errors() or result.has_validation_errors():
            return
        columns = {f.attribute: f.column_name for f in self.fields.values() if f.attribute}
        results_import.import_indicator_results(rows=self.pending, user=kwargs.get("user"), columns=columns)
