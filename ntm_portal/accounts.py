"""Passwords: how they are stored, and changing one's own.

Changing one's password: the old password is checked like a login, so that django-axes counts the wrong ones.

Five wrong old passwords from one address lock the username for AXES_COOLOFF_TIME (15 minutes), for the
password change and for logging in alike: a stolen session cannot be used to guess the password.
"""

from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError


class CountedPasswordChangeForm(PasswordChangeForm):
    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        # authenticate() runs AxesStandaloneBackend first: a locked username is refused without checking the
        # password, and a wrong one sends user_login_failed, which axes records for this username and address.
        checked = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = CountedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended configuration (Password Storage Cheat Sheet: 19 MiB of memory, 2 iterations,
    1 lane), the first hasher of settings.PASSWORD_HASHERS.

    Django's default, PBKDF2 with 1,000,000 iterations, took 0.26 s of CPU a login here (0.6-1.2 s on a busy
    two-core server, where it held a worker and queued the pages behind it); Django's own Argon2 defaults (100 MiB,
    8 lanes) as much. This one takes ~22 ms and, being memory-hard, costs a GPU attacker more per guess than
    PBKDF2 does. Passwords stored by an earlier hasher still verify and are stored again with this one at the
    user's next login (Django's must_update); django-axes limits guessing online either way.
    """

    memory_cost = 19 * 1024
    time_cost = 2
    parallelism = 1
