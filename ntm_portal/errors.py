"""The page a refused form gets (CSRF_FAILURE_VIEW): Vietnamese, in the portal's layout, with a way back.

The 400, 403, 404 and 500 pages are Django's own handlers rendering templates/400.html … 500.html.
"""

from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403)
