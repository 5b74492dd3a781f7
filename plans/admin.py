from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from import_export import fields, instance_loaders, resources, widgets
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from areas.admin import YearColumnMixin
from areas.resources import ChoiceWidget, LookupWidget
from criteria.resources import VnDecimalWidget
from ntm_portal.bulk import create_with_history, update_with_history
from ntm_portal.spreadsheets import ImportRowsMixin, KnownLookup, SpreadsheetAdmin
from plans.models import FundingLine, FundingSource, ItemStatus, Plan, PlanItem, ProgressUpdate, parse_deadline


@admin.register(FundingSource)
class FundingSourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


class FirstItemsFormSet(BaseInlineFormSet):
    """The first PlanItemInline.shown items of the plan, not all: a district's plan has hundreds, and an inline
    renders a form per row (issue 19). The rest are reached through the items' list, filtered to the plan."""

    shown = 50

    def get_queryset(self):
        if not hasattr(self, "_first_items"):
            self._first_items = super().get_queryset()[: self.shown]
        return self._first_items

    def hidden_count(self):
        if self.instance.pk is None:
            return 0
        return max(self.instance.items.count() - self.shown, 0)


class PlanItemInline(admin.TabularInline):
    model = PlanItem
    formset = FirstItemsFormSet
    template = "admin/plans/plan/first_items_inline.html"
    fields = ["position", "title", "deadline_label", "status", "progress"]
    readonly_fields = ["deadline_label"]
    extra = 0
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(YearColumnMixin, SimpleHistoryAdmin):
    list_display = ["number", "title", "area", "year_label", "status", "issued_on"]
    list_filter = ["status", "year", "area__level"]
    search_fields = ["number", "title", "area__name", "issued_by", "signer"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]
    date_hierarchy = "issued_on"
    inlines = [PlanItemInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "signer_title":
            # Two or three short lines of the signature block, not a long text.
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def _id_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # read again by the row, whose error it becomes


class KnownPlanWidget(KnownLookup, LookupWidget):
    """The items' plan column ("Mã kế hoạch"): every plan the file names read in one query, not one per row."""

    def known_key(self, value, row):
        return _id_or_none(value)

    def read_all(self, rows, column):
        known = {}
        ids = {_id_or_none(row.get(column)) for row in rows} - {None}
        for plan in Plan.objects.filter(pk__in=ids).select_related("area"):  # the preview shows its area
            known[plan.pk] = [plan]
        self.known = known


class _StoredItems(instance_loaders.ModelInstanceLoader):
    """The items a file's rows name by "Mã việc", read in one query with what the preview shows of them (their
    plan, area, criterion, indicator, lead), instead of a query per row and more per column."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.id_field = resource.fields["id"]
        rows = dataset.dict if dataset is not None else []
        ids = {_id_or_none(row.get(self.id_field.column_name)) for row in rows} - {None}
        self.stored = self.get_queryset().in_bulk(ids)

    def get_instance(self, row):
        pk = self.id_field.clean(row)
        return None if pk is None else self.stored.get(pk)


class PlanItemResource(ImportRowsMixin, resources.ModelResource):
    """Plan items to and from CSV/XLSX. The deadline travels as its Vietnamese wording ("Quý II/2020"). Imported
    rows are checked one by one, then written all at once with their history (as plans.services writes items)."""

    # Headed in Vietnamese like the portal's other tables; the two ids say which item and plan a row is.
    id = fields.Field(attribute="id", column_name="Mã việc", widget=widgets.IntegerWidget(coerce_to_string=False))
    plan = fields.Field(attribute="plan", column_name="Mã kế hoạch", widget=KnownPlanWidget(Plan))
    plan_number = fields.Field(attribute="plan__number", column_name="Số kế hoạch", readonly=True)
    area_name = fields.Field(attribute="plan__area__name", column_name="Địa bàn", readonly=True)
    position = fields.Field(attribute="position", column_name="Thứ tự", widget=widgets.IntegerWidget())
    title = fields.Field(attribute="title", column_name="Nội dung công việc")
    criterion_number = fields.Field(attribute="criterion__number", column_name="Tiêu chí", readonly=True)
    indicator_code = fields.Field(attribute="indicator__code", column_name="Chỉ tiêu", readonly=True)
    quantity = fields.Field(attribute="quantity", column_name="Khối lượng", widget=VnDecimalWidget())
    unit = fields.Field(attribute="unit", column_name="Đơn vị tính", default="")
    target = fields.Field(attribute="target", column_name="Chỉ tiêu cần đạt", default="")
    # Readonly fields are shown in the preview's before/after by their attribute (import-export's diff does not call
    # dehydrate methods): the lead is a person or an agency, each named by `name`.
    lead = fields.Field(attribute="lead__name", column_name="Chủ trì", readonly=True)
    deadline = fields.Field(attribute="deadline_label", column_name="Thời hạn", default="")
    status = fields.Field(attribute="status", column_name="Tình trạng", widget=ChoiceWidget(ItemStatus))
    progress = fields.Field(attribute="progress", column_name="Tiến độ (%)", widget=widgets.IntegerWidget())
    notes = fields.Field(attribute="notes", column_name="Ghi chú", default="")

    class Meta:
        model = PlanItem
        fields = [
            "id",
            "plan",
            "plan_number",
            "area_name",
            "position",
            "title",
            "criterion_number",
            "indicator_code",
            "quantity",
            "unit",
            "target",
            "lead",
            "deadline",
            "status",
            "progress",
            "notes",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = False
        instance_loader_class = _StoredItems
        # Rows are collected and written together (bulk_create / bulk_update below): no savepoint, save and
        # history row per row — 1,000 rows took 9 s to preview and 11 s to import.
        use_bulk = True

    required_fields = ("plan",)
    # What an import may change on an item, with what a change always moves (its deadline's parts, version, author).
    written_fields = [
        "plan",
        "position",
        "title",
        "quantity",
        "unit",
        "target",
        "deadline_label",
        "deadline_precision",
        "deadline_date",
        "status",
        "progress",
        "notes",
        "version",
        "updated_by",
        "updated_at",
    ]

    # What the file's columns read of an item beyond its own row (its plan's area, criterion, indicator, lead).
    related = ("plan__area", "criterion", "indicator", "lead_member", "lead_agency")

    def get_queryset(self):
        return PlanItem.objects.select_related(*self.related)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.user, self.now = kwargs.get("user"), timezone.now()
        self.fields["plan"].widget.read_all(dataset.dict, self.fields["plan"].column_name)

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            # As plans.services.update_item does: an edit form opened before the import then says it is stale
            # instead of overwriting what the import wrote.
            instance.version += 1
        instance.updated_by = kwargs.get("user") or instance.updated_by
        instance.updated_at = self.now
        if instance.deadline_label:
            instance.deadline = parse_deadline(instance.deadline_label)
        else:
            instance.deadline = None
        # A ValidationError by field: import-export lists it under the row, named by the column's heading. The
        # plan was found by its id and the author is the importer: their rows are not looked up again. The
        # table's checks are not asked of the database row by row (three statements each): the progress's is the
        # field's own 0–100 validator, and the lead, whose is the other, is not imported.
        instance.full_clean(
            exclude=["criterion", "indicator", "lead_member", "lead_agency", "area", "plan", "updated_by"],
            validate_constraints=False,
        )

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self._write(create_with_history, self.create_instances, using_transactions, dry_run, raise_errors, result)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        def update(items, model, **kwargs):
            update_with_history(items, model, self.written_fields, **kwargs)

        self._write(update, self.update_instances, using_transactions, dry_run, raise_errors, result)

    def _write(self, write, items, using_transactions, dry_run, raise_errors, result):
        """import-export's bulk writes keep no history: the items go in as plans.services writes them, with their
        history under the importer. The preview writes them too, in the transaction import-export rolls back."""
        if items and (using_transactions or not dry_run):
            try:
                write(items, PlanItem, user=self.user, now=self.now)
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                items.clear()


class FundingLineInline(admin.TabularInline):
    model = FundingLine
    extra = 0
    autocomplete_fields = ["source"]


@admin.register(PlanItem)
class PlanItemAdmin(SpreadsheetAdmin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [PlanItemResource]
    list_display = ["title", "plan", "criterion", "deadline_label", "status", "progress"]
    list_filter = ["status", "deadline_precision", "plan__year", "plan__area__level"]
    search_fields = [
        "title",
        "plan__number",
        "plan__title",
        "plan__area__name",
        "lead_member__name",
        "lead_agency__name",
    ]
    list_select_related = ["plan", "criterion"]
    # Newest plans first, each plan's items in order, by the items' own columns: PostgreSQL walks the plan index
    # backwards for one page. The model's order (the plan's year, area code, number) sorted every item per page.
    ordering = ["-plan_id", "position", "id"]
    raw_id_fields = ["plan", "criterion", "indicator", "area"]
    autocomplete_fields = ["lead_member", "lead_agency", "coordinator_members", "coordinator_agencies"]
    inlines = [FundingLineInline]

    def get_export_queryset(self, request):
        # The list's rows with what the file's columns read: one query for the file, not up to four per item.
        return super().get_export_queryset(request).select_related(*PlanItemResource.related)


@admin.register(FundingLine)
class FundingLineAdmin(SimpleHistoryAdmin):
    list_display = ["item", "source", "planned", "disbursed"]
    list_filter = ["source", "item__plan__year"]
    search_fields = ["item__title", "item__plan__number", "source__name"]
    list_select_related = ["item", "source"]
    ordering = ["-item_id", "id"]  # as the items' list: one page from the item index, not a sort of every line
    raw_id_fields = ["item"]


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(SimpleHistoryAdmin):
    list_display = ["item", "date", "progress", "status", "created_by"]
    list_filter = ["status", "date"]
    search_fields = ["item__title", "done", "difficulties"]
    list_select_related = ["item", "created_by"]
    raw_id_fields = ["item", "created_by"]
