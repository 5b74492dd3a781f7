"""How the portal writes things for Vietnamese readers, and reads back numbers they type: the one place for it.

Numbers group thousands with dots and take a decimal comma ("1.276", "90,3"); percentages carry a spaced sign
("90,3 %"); money is in million đồng with one decimal ("8.321,7"); dates are day first ("22/02/2024", "09:15
22/02/2024"); deadlines keep the precision the plan wrote ("tháng 2/2020", "Quý II/2020", "năm 2020"); people are
named family name first ("Nguyễn Thị Lan"). Pages use the same functions as template filters
(``{% load vietnamese %}``, see ntm_portal/templatetags/vietnamese.py); forms, messages, workbooks and imports
call them directly. They write the same whatever language is active, so a background job writes as a page does.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

# ---------------------------------------------------------------- numbers


def vn_number(value, places=None):
    """A number as Vietnamese write it: 1276 → "1.276", Decimal("90.30") → "90,3", (90.25, 1) → "90,3".

    Without ``places`` the number keeps the decimals it has, less trailing zeros; with ``places`` it is rounded
    half up to that many. None or "" is "".
    """
    if value is None or value == "":
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    elif number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    else:
        number = number.normalize()
    if number == 0:
        number = abs(number)  # "-0,0" reads as a mistake
    return format(number, ",f").replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def vn_percent(value, places=None):
    """A percentage: 90.3 → "90,3 %" (``places`` as for vn_number); None is ""."""
    text = vn_number(value, places)
    return f"{text} %" if text else ""


def vn_money(value):
    """An amount in million đồng, as plans and Biểu write it: one decimal, 8321.7 → "8.321,7", 135 → "135,0"."""
    return vn_number(value, 1)


_VN_NUMBER = re.compile(r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")


def parse_vn_number(text):
    """'1.276' → 1276; '90,3' → 90.3; '8.321,7' → 8321.7; '12,3,4' → ValueError.

    Vietnamese writing: the comma is the decimal mark, dots group thousands by three. A lone dot that does
    not group three digits ('90.3') is refused rather than guessed.
    """
    if isinstance(text, (int, Decimal)):
        return Decimal(text)
    if isinstance(text, float):
        return Decimal(str(text))
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if not _VN_NUMBER.fullmatch(cleaned):
        raise ValueError(text)
    try:
        return Decimal(cleaned.replace(".", "").replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only valid numbers
        raise ValueError(text) from exc


def parse_vn_percent(text):
    """A percentage as people type it, sign or not: '90,3 %', '90,3%', '90,3' → 90.3; ValueError otherwise."""
    if isinstance(text, (int, float, Decimal)):
        return parse_vn_number(text)
    return parse_vn_number(str(text).strip().removesuffix("%"))


def parse_vn_ratio(text):
    """A ratio typed as numerator/denominator: '1.276/1.413' → (1276, 1413); ValueError unless two numbers
    stand either side of one slash."""
    numerator, slash, denominator = str(text).partition("/")
    if not slash:
        raise ValueError(text)
    return parse_vn_number(numerator), parse_vn_number(denominator)


# ---------------------------------------------------------------- dates and deadlines


def vn_date(day):
    """22/02/2024; a datetime is read in the portal's time zone first. None is ""."""
    if day is None:
        return ""
    if isinstance(day, datetime.datetime):
        day = timezone.localtime(day) if timezone.is_aware(day) else day
        day = day.date()
    return day.strftime("%d/%m/%Y")


def vn_datetime(moment):
    """09:15 22/02/2024, in the portal's time zone. None is ""."""
    if moment is None:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%H:%M %d/%m/%Y")


ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def vn_deadline(precision, end):
    """A deadline as plans write it, from its precision and last day: "15/03/2020", "tháng 2/2020",
    "Quý II/2020", "năm 2020" (precision is plans.models.Precision: "day", "month", "quarter" or "year")."""
    if precision == "year":
        return _("năm %(year)s") % {"year": end.year}
    if precision == "quarter":
        return _("Quý %(q)s/%(year)s") % {"q": ROMAN_QUARTERS[(end.month - 1) // 3 + 1], "year": end.year}
    if precision == "month":
        return _("tháng %(m)s/%(year)s") % {"m": end.month, "year": end.year}
    return vn_date(end)


# ---------------------------------------------------------------- people


def person_name(user, missing=None):
    """A user's name in Vietnamese order, else their username; ``missing`` (or "tài khoản đã xóa") for none.

    Django's ``get_full_name()`` puts the given name first ("Lan Nguyễn Thị"); Vietnamese names are written
    family name first ("Nguyễn Thị Lan"). A record keeps its user as a nullable link (SET_NULL), so a deleted
    account or a step recorded from a document leaves nobody to name; the caller says which of the two the
    empty link means.
    """
    if user is None:
        return missing if missing is not None else _("tài khoản đã xóa")
    full = " ".join(part for part in (user.last_name.strip(), user.first_name.strip()) if part)
    return full or user.username


# ---------------------------------------------------------------- a stale edit


def stale_edit_message(*, what, when, who=None, change=None):
    """Why a save is refused because someone else saved the same thing after the form was opened.

    "Kết quả này vừa được Nguyễn Thị Lan cập nhật lúc 09:15 22/02/2024. Hãy tải lại trang để xem bản mới trước khi
    sửa." ``what`` names the thing ("Kết quả này"); ``change`` replaces "<who> cập nhật" when the change is not an
    edit ("chuyển sang bước “Huyện đã thẩm tra”").
    """
    if change is None:
        change = _("%(who)s cập nhật") % {"who": person_name(who, _("người khác"))}
    return _("%(what)s vừa được %(change)s lúc %(when)s. Hãy tải lại trang để xem bản mới trước khi sửa.") % {
        "what": what,
        "change": change,
        "when": vn_datetime(when),
    }


# ---------------------------------------------------------------- numbers and names as offices type them


_EN_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def parse_number(text):
    """A number typed the Vietnamese way, else the English way: '90,3' → 90.3, '1.276' → 1276, '90.5' → 90.5,
    '1,276.5' → 1276.5. Where both readings fit ('1.276', '1,5') the Vietnamese one wins; ValueError otherwise."""
    try:
        return parse_vn_number(text)
    except ValueError:
        pass
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "").removeprefix("+")
    if not _EN_NUMBER.fullmatch(cleaned):
        raise ValueError(text)
    return Decimal(cleaned.replace(",", ""))


# A yes or a no as people mark it in a spreadsheet, compared as plain_text: "Đạt", "Có", "x", "✓", "1" / "Chưa đạt",
# "Không", "✗", "0". The import wizard reads a mark with them, the admin's imports a yes/no column.
YES_MARKS = frozenset({"x", "✓", "✔", "☑", "dat", "co", "yes", "true", "da dat", "1"})
NO_MARKS = frozenset({"✗", "✘", "☒", "khong dat", "chua dat", "khong", "no", "false", "0"})


def plain_text(text):
    """Text without diacritics, lowercased and with single spaces, to compare names typed loosely:
    "Xã  Hùng Mỹ" → "xa hung my", "Đồng Lạng" → "dong lang"."""
    import unicodedata

    text = str(text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return " ".join("".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower().split())
