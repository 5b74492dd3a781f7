from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget
from simple_history.admin import SimpleHistoryAdmin

from areas.admin import YearColumnMixin
from areas.resources import ChoiceWidget
from criteria.resources import VnDecimalWidget
from ntm_portal.spreadsheets import ImportRowsMixin, SpreadsheetAdmin
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


class PlanItemResource(ImportRowsMixin, resources.ModelResource):
    """Plan items to and from CSV/XLSX. The deadline travels as its Vietnamese wording ("Quý II/2020")."""

    # Headed in Vietnamese like the portal's other tables; the two ids say which item and plan a row is.
    id = fields.Field(attribute="id", column_name="Mã việc", widget=widgets.IntegerWidget(coerce_to_string=False))
    plan = fields.Field(attribute="plan", column_name="Mã kế hoạch", widget=ForeignKeyWidget(Plan))
    plan_number = fields.Field(attribute="plan__number", column_name="Số kế hoạch", readonly=True)
    area_name = fields.Field(attribute="plan__area__name", column_name="Địa bàn", readonly=True)
    position = fields.Field(attribute="position", column_name="Thứ tự", widget=widgets.IntegerWidget())
    title = fields.Field(attribute="title", column_name="Nội dung công việc")
    criterion_number = fields.Field(attribute="criterion__number", column_name="Tiêu chí", readonly=True)
    indicator_code = fields.Field(attribute="indicator__code", column_name="Chỉ tiêu", readonly=True)
    quantity = fields.Field(attribute="quantity", column_name="Khối lượng", widget=VnDecimalWidget())
    unit = fields.Field(attribute="unit", column_name="Đơn vị tính", default="")
    target = fields.Field(attribute="target", column_name="Chỉ tiêu cần đạt", default="")
    lead = fields.Field(column_name="Chủ trì", readonly=True)
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

    def dehydrate_lead(self, item):
        lead = item.lead
        return lead.name if lead else ""

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            # As plans.services.update_item does: an edit form opened before the import then says it is stale
            # instead of overwriting what the import wrote.
            instance.version += 1
        instance.updated_by = kwargs.get("user") or instance.updated_by
        if instance.deadline_label:
            instance.deadline = parse_deadline(instance.deadline_label)
        else:
            instance.deadline = None
        # A ValidationError by field: import-export lists it under the row, named by the column's heading.
        instance.full_clean(exclude=["criterion", "indicator", "lead_member", "lead_agency", "area"])


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
