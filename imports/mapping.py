"""Which field each column of a table holds: the fields of the three layouts, and the proposal made from the
headings (corrected by the user, or taken from a saved mapping)."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz

from ntm_portal.vietnamese import plain_text

LONG, WIDE, PLAN = "long", "wide", "plan"
LAYOUTS = [
    (LONG, gettext_lazy("Mỗi dòng một chỉ tiêu (Biểu 01 của xã)")),
    (WIDE, gettext_lazy("Mỗi dòng một xã, tiêu chí/chỉ tiêu theo cột (bảng tổng hợp của huyện)")),
    (PLAN, gettext_lazy("Nội dung kế hoạch và kinh phí theo nguồn (Biểu 02/03)")),
]

# The fixed fields of each layout; criteria, indicators and funding sources are added from the database.
FIELDS = {
    LONG: [
        ("code", gettext_lazy("Mã chỉ tiêu / TT")),
        ("criterion_name", gettext_lazy("Tên tiêu chí")),
        ("indicator_name", gettext_lazy("Tên chỉ tiêu (nội dung)")),
        ("area_name", gettext_lazy("Tên xã")),
        ("area_code", gettext_lazy("Mã xã")),
        ("value", gettext_lazy("Kết quả")),
        ("assessed", gettext_lazy("Tự đánh giá")),
        ("note", gettext_lazy("Ghi chú")),
        ("threshold", gettext_lazy("Chỉ tiêu chung (chỉ để đối chiếu)")),
        ("unit", gettext_lazy("Đơn vị tính (chỉ để đối chiếu)")),
    ],
    WIDE: [
        ("area_name", gettext_lazy("Tên xã")),
        ("area_code", gettext_lazy("Mã xã")),
        ("met_count", gettext_lazy("Số tiêu chí đạt (để đối chiếu)")),
        ("note", gettext_lazy("Ghi chú")),
    ],
    PLAN: [
        ("stt", gettext_lazy("STT")),
        ("title", gettext_lazy("Nội dung công việc")),
        ("place", gettext_lazy("Địa điểm")),
        ("target", gettext_lazy("Chỉ tiêu cần đạt")),
        ("total", gettext_lazy("Tổng (để đối chiếu)")),
    ],
}

_RULES = {
    LONG: [
        (r"^(ma chi tieu|ma|tt|stt|so tt|so thu tu)$", "code"),
        (r"^ten tieu chi$|^tieu chi$", "criterion_name"),
        (r"^(noi dung|ten chi tieu|chi tieu cu the|noi dung tieu chi|noi dung chi tieu)", "indicator_name"),
        (r"^(ten xa|xa|ten don vi)$", "area_name"),
        (r"^(ma xa|ma don vi|ma dvhc)$", "area_code"),
        (r"^(tu danh gia|danh gia|muc do dat)", "assessed"),
        (r"^(ket qua|gia tri|hien trang|thuc hien|so lieu)", "value"),
        (r"^ghi chu", "note"),
        (r"^(chi tieu|nguong|yeu cau|muc chuan)", "threshold"),
        (r"^(don vi|dvt)", "unit"),
    ],
    WIDE: [
        (r"^(ma xa|ma don vi|ma dvhc)$", "area_code"),
        (r"^(ten xa|xa|ten don vi|don vi|ten xa, thi tran)", "area_name"),
        (r"^(so tieu chi dat|so tc dat|tong so tieu chi dat|so tieu chi da dat)", "met_count"),
        (r"^ghi chu", "note"),
    ],
    PLAN: [
        (r"^(tt|stt|so tt)$", "stt"),
        (r"^(noi dung cong viec|noi dung|ten cong trinh|ten noi dung|danh muc)", "title"),
        (r"^(dia diem|dia ban)", "place"),
        (r"^(chi tieu can dat|muc tieu|chi tieu)", "target"),
        (r"^(tong|tong cong|tong kinh phi|tong so)$", "total"),
    ],
}
_CRITERION = re.compile(r"^(?:tc|tieu chi)\s*(?:so\s*)?(\d{1,2})$")
_INDICATOR = re.compile(r"^(?:ct|chi tieu)?\s*(\d{1,2}\.\d{1,2})$")
_BARE_NUMBER = re.compile(r"^(\d{1,2})$")


@dataclass
class Catalogue:
    """What columns can map to for a criteria set and the funding sources: {key: label}."""

    criteria: dict  # number -> Criterion
    indicators: dict  # code -> Indicator
    sources: dict  # code -> FundingSource

    def fields(self, layout):
        choices = [("", _("— bỏ qua cột này —")), *[(k, str(v)) for k, v in FIELDS[layout]]]
        if layout == WIDE:
            choices += [
                (f"criterion:{n}", _("Tiêu chí %(n)s. %(name)s") % {"n": n, "name": c.name})
                for n, c in self.criteria.items()
            ]
            choices += [(f"indicator:{code}", _("Chỉ tiêu %(code)s") % {"code": code}) for code in self.indicators]
        if layout == PLAN:
            choices += [
                (f"source:{code}", _("Kinh phí: %(name)s") % {"name": s.name}) for code, s in self.sources.items()
            ]
        return choices


def _parts(heading):
    """The heading's parts, most specific first: "Kết quả › Tự đánh giá" → ["tu danh gia", "ket qua"]."""
    return [plain_text(part) for part in reversed(heading.split(" › "))]


def propose_column(heading, layout, catalogue):
    parts = _parts(heading)
    found = ""
    if layout == WIDE:
        found = _criterion_or_indicator(parts, catalogue)
    elif layout == PLAN:
        found = _funding_source(parts, catalogue)
    return found or _fixed_field(parts, layout)


def _criterion_or_indicator(parts, catalogue):
    """ "criterion:5" for "TC5", "Tiêu chí 5" or a bare 5 under a heading naming the criteria ("Các tiêu chí đạt
    › 5"); "indicator:17.1" for "17.1" or "CT 17.1"; else ""."""
    for index, part in enumerate(parts):
        match = _CRITERION.match(part)
        bare = _BARE_NUMBER.match(part)
        if bare and index + 1 < len(parts) and "tieu chi" in parts[index + 1]:
            match = bare
        if match and int(match[1]) in catalogue.criteria:
            return f"criterion:{int(match[1])}"
        match = _INDICATOR.match(part)
        if match and match[1] in catalogue.indicators:
            return f"indicator:{match[1]}"
    return ""


def _funding_source(parts, catalogue):
    for part in parts:
        for code, source in catalogue.sources.items():
            if fuzz.ratio(part, plain_text(source.name)) >= 90:
                return f"source:{code}"
    return ""


def _fixed_field(parts, layout):
    for part in parts:
        for pattern, key in _RULES[layout]:
            if re.search(pattern, part):
                return key
    return ""


def propose(table, layout, catalogue):
    """{column: field key} for every heading, each key used once (the first column that fits keeps it)."""
    mapping, used = {}, set()
    for column in table.columns:
        key = propose_column(table.headings[column], layout, catalogue)
        if key and key in used:
            key = ""
        mapping[column] = key
        if key:
            used.add(key)
    return mapping


def guess_layout(table, catalogue):
    """The layout the headings suggest: funding sources → plan; a commune column with criteria columns → wide."""
    plan = propose(table, PLAN, catalogue)
    if any(k.startswith("source:") for k in plan.values()) and "title" in plan.values():
        return PLAN
    wide = propose(table, WIDE, catalogue)
    if {"area_name", "area_code"} & set(wide.values()) and any(
        k.startswith(("criterion:", "indicator:")) for k in wide.values()
    ):
        return WIDE
    return LONG
