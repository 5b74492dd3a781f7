"""Settings every test run shares, set before the first test touches them.

- A fast password hasher: the personas' passwords would otherwise cost PBKDF2's ~0.3 s each, which made
  password hashing most of the suite's time. Login itself is still exercised end to end.
- Media (evidence, uploads, export files) in a temporary folder of this run (one per xdist worker), removed at
  the end, so tests never write into the project's media/ and parallel workers never share files.
"""

import shutil
import tempfile


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    media = tempfile.mkdtemp(prefix="ntm-test-media-")
    settings.MEDIA_ROOT = media
    config.add_cleanup(lambda: shutil.rmtree(media, ignore_errors=True))
