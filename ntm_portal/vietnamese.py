"""How the portal writes things for Vietnamese readers: the one place for people's names.

Django's ``get_full_name()`` puts the given name first ("Lan Nguyễn Thị"); Vietnamese names are written family
name first ("Nguyễn Thị Lan"), so every page, e-mail and workbook names people through ``person_name``.
"""

from django.utils.translation import gettext as _


def person_name(user, missing=None):
    """A user's name in Vietnamese order, else their username; ``missing`` (or "tài khoản đã xóa") for none.

    A record keeps its user as a nullable link (SET_NULL), so a deleted account or a step recorded from a
    document leaves nobody to name; the caller says which of the two the empty link means.
    """
    if user is None:
        return missing if missing is not None else _("tài khoản đã xóa")
    full = " ".join(part for part in (user.last_name.strip(), user.first_name.strip()) if part)
    return full or user.username
