"""Bulk loading of the official list of administrative units (CSV / XLSX) through the admin."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import fields, instance_loaders, resources, widgets

from areas import services
from areas.models import Area, Level, Region
from ntm_portal.spreadsheets import ImportRowsMixin, KnownLookup, VnDateWidget, YesNoWidget

# Before 1/7/2025 the old map; a row with no start date is read against it.
OLD_MAP_DAY = datetime.date(2025, 6, 30)


class ChoiceWidget(widgets.Widget):
    """Reads a choice by its Vietnamese label ("Xã") or its stored value ("commune"); writes the label."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        self.labels = {}  # language -> {stored value: label}, translated once per language, not per cell
        self.known = {}  # language -> {a label or stored value, lower case: stored value}, as clean reads them
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return ""
        language = translation.get_language()
        known = self.known.get(language)
        if known is None:
            # Once per language for the whole file (import-export copies a resource's widgets for each import).
            known = {}
            for stored, label in self.choices.choices:
                known.setdefault(str(stored).lower(), stored)
                known.setdefault(str(label).lower(), stored)
            self.known[language] = known
        try:
            return known[text.lower()]
        except KeyError:
            raise ValueError(_("Giá trị '%(value)s' không hợp lệ.") % {"value": text}) from None

    def render(self, value, obj=None, **kwargs):
        language = translation.get_language()
        labels = self.labels.get(language)
        if labels is None:
            labels = self.labels[language] = {stored: str(label) for stored, label in self.choices.choices}
        return str(labels.get(value, value or ""))


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key read by a code; an unknown or ambiguous code is a row error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("Không có %(model)s mã '%(value)s'.") % {"model": self.model._meta.verbose_name, "value": value}
            )
        except self.model.MultipleObjectsReturned:
            raise ValueError(
                _("Có nhiều %(model)s mã '%(value)s'.") % {"model": self.model._meta.verbose_name, "value": value}
            )


class KnownRegionWidget(KnownLookup, LookupWidget):
    """The units' region column: the seven regions read once, not once per row."""

    def known_key(self, value, row):
        return str(value).strip() or None

    def read_all(self, rows, column):
        self.known = {region.code: [region] for region in Region.objects.all()}


class _StoredUnits(instance_loaders.ModelInstanceLoader):
    """The units a file's rows name (code, level, start date), read in one query with their parent and region,
    instead of one per row."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        codes = {str(row.get(self.fields[0].column_name) or "").strip() for row in (dataset.dict if dataset else [])}
        self.stored = {}
        for area in self.get_queryset().filter(code__in=codes - {""}):
            self.stored[(area.code, area.level, area.valid_from)] = area

    def get_instance(self, row):
        return self.stored.get(tuple(field.clean(row) for field in self.fields))


class AreaResource(ImportRowsMixin, resources.ModelResource):
    """One row per unit: its code, level and start date identify it; its parent is named by code and level."""

    code = fields.Field(attribute="code", column_name="Mã")
    name = fields.Field(attribute="name", column_name="Tên")
    kind = fields.Field(attribute="kind", column_name="Loại", default="")
    level = fields.Field(attribute="level", column_name="Cấp", widget=ChoiceWidget(Level))
    # The parent is read from both columns by import_instance (a code names a unit only with its level and the
    # row's start date); the fields themselves only write them out, to the file and to the preview's before/after.
    parent_code = fields.Field(attribute="parent__code", column_name="Mã cấp trên", readonly=True)
    parent_level = fields.Field(
        attribute="parent__level", column_name="Cấp của cấp trên", widget=ChoiceWidget(Level), readonly=True
    )
    region = fields.Field(attribute="region", column_name="Vùng", widget=KnownRegionWidget(Region, "code"))
    special_difficulty = fields.Field(
        attribute="special_difficulty", column_name="Đặc biệt khó khăn", widget=YesNoWidget(), default=False
    )
    safe_zone = fields.Field(attribute="safe_zone", column_name="An toàn khu", widget=YesNoWidget(), default=False)
    valid_from = fields.Field(attribute="valid_from", column_name="Hiệu lực từ", widget=VnDateWidget())
    valid_until = fields.Field(attribute="valid_until", column_name="Hiệu lực đến", widget=VnDateWidget())

    class Meta:
        model = Area
        import_id_fields = ("code", "level", "valid_from")
        fields = (
            "code",
            "name",
            "kind",
            "level",
            "parent_code",
            "parent_level",
            "region",
            "special_difficulty",
            "safe_zone",
            "valid_from",
            "valid_until",
        )
        # Area.clean() checks the parent's level and fills the stored ancestors.
        clean_model_instances = True
        skip_unchanged = True
        instance_loader_class = _StoredUnits

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._read_places()

    def _read_places(self):
        # Each stored unit's place on the map as read (parent, level, region), and the units whose rows keep it.
        self.stored_places = {}
        self.corrected = {}

    def get_queryset(self):
        return Area.objects.select_related("parent", "region")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        rows = dataset.dict
        self.fields["region"].widget.read_all(rows, "Vùng")
        # Every unit a row names as its parent, read at once (both maps: the row's start date chooses).
        codes = {str(row.get("Mã cấp trên") or "").strip() for row in rows} - {""}
        self.parents = {}
        for area in Area.objects.filter(code__in=codes):
            self.parents.setdefault(area.code, []).append(area)
        self._read_places()

    def after_import(self, dataset, result, **kwargs):
        # Renamed units and corrected dates, written together at the end of the file (inside the import's
        # transaction, rolled back with it at the preview): 1,000 of them one by one took 5 to 7 s.
        if self.corrected:
            services.correct_units(units=list(self.corrected.values()))
        super().after_import(dataset, result, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            self.stored_places.setdefault(instance.pk, _place(instance))
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "Mã cấp trên" in row:
            try:
                instance.parent = self._parent(row, instance)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _parent(self, row, instance):
        code = str(row.get("Mã cấp trên") or "").strip()
        if not code:
            return None
        # A parent the file itself adds (a commune, then its villages) was not there when the file was read.
        candidates = getattr(self, "parents", {}).get(code) or list(Area.objects.filter(code=code))
        if row.get("Cấp của cấp trên"):
            try:
                level = self.fields["level"].widget.clean(row["Cấp của cấp trên"])
            except ValueError as exc:
                raise ValidationError({"parent": str(exc)})
            candidates = [area for area in candidates if area.level == level]
        # The same code lives on both maps (before and after 1/7/2025): take the unit valid when this one starts.
        day = instance.valid_from or OLD_MAP_DAY
        matches = [area for area in candidates if area.is_valid_on(day)] or candidates
        if not matches:
            raise ValidationError({"parent": _("Không có đơn vị cấp trên mã '%(code)s'.") % {"code": code}})
        if len(matches) > 1:
            raise ValidationError(
                {"parent": _("Có nhiều đơn vị cấp trên mã '%(code)s'; hãy ghi rõ cấp của cấp trên.") % {"code": code}}
            )
        return matches[0]

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if original is not None and instance.parent_id != original.parent_id:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # As import-export validates a row, without asking the database again for the units the row was given
        # (services.RELATED_UNITS); Area.clean still checks the parent's level.
        # A stored unit was found by its code, level and start date, which its row therefore repeats: the one
        # constraint (a code once per level and start date) holds without asking the database.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, *services.RELATED_UNITS],
                validate_unique=validate_unique,
                validate_constraints=instance.pk is None,
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        if not is_create and self.stored_places.get(instance.pk) == _place(instance):
            self.corrected[instance.pk] = instance
            return
        # A new unit, or one that changes parent, level or region, taking everything below it along.
        services.move_area(area=instance, parent=instance.parent)


def _place(area):
    return area.parent_id, area.level, area.region_id
