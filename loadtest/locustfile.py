"""100 commune officers and 10 reviewers using the portal at once (loadtest/run.sh runs it for 60 s).

Officers and reviewers start logged in — their sessions were made by loadtest/prepare.py, as the day's earlier
logins would have left them. Officers open their workspace and the criterion page, and save their indicator with
the version the page showed (as the htmx form does). Reviewers open their dashboard and download Biểu 01 and 03.
Logins go on at a realistic rate beside them (`Arrival`: one every LOADTEST_LOGIN_EVERY seconds, 15 by default,
i.e. 4 a minute — 110 people each logging in about once in half an hour), and `Visitor` opens the login form,
the near-trivial page every other page's cost is compared with.
"""

import itertools
import json
import os
import re
from pathlib import Path

from locust import HttpUser, between, constant_pacing, task

PLAN = json.loads(Path(os.environ.get("LOADTEST_PLAN", "loadtest-plan.json")).read_text(encoding="utf-8"))
_officers = itertools.cycle(PLAN["officers"])
_reviewers = itertools.cycle(PLAN["reviewers"])
_arrivals = itertools.cycle(PLAN["arrivals"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOGIN_EVERY = float(os.environ.get("LOADTEST_LOGIN_EVERY", "15"))


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def resume_session(self, person):
        """Carry the session prepare.py stored for this person, as a browser that logged in earlier does."""
        self.me = person
        self.client.cookies.set(PLAN["session_cookie"], person["session"])


class Officer(PortalUser):
    fixed_count = 100

    def on_start(self):
        self.resume_session(next(_officers))
        self.query = f"?nam={PLAN['year']}&bo={PLAN['set']}"
        self.prefix = f"i{self.me['indicator']}-"
        self.value = 50

    @task(2)
    def open_workspace(self):
        self.client.get(f"/khong-gian/{self.me['area']}/{self.query}", name="/khong-gian/[xã]/")

    @task(1)
    def save_indicator(self):
        page = self.client.get(
            f"/khong-gian/{self.me['area']}/tieu-chi/{self.me['criterion']}/{self.query}",
            name="/khong-gian/[xã]/tieu-chi/[tc]/",
        )
        version = re.search(rf'name="{self.prefix}version" value="(\d+)"', page.text)
        if version is None:
            return
        self.value = 50 + (self.value - 49) % 50
        with self.client.post(
            f"/khong-gian/{self.me['area']}/chi-tieu/{self.me['indicator']}/?nam={PLAN['year']}",
            {f"{self.prefix}value": f"{self.value},5", f"{self.prefix}version": version.group(1)},
            headers={"HX-Request": "true", "X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="/khong-gian/[xã]/chi-tieu/[ct]/ POST",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"save refused: {response.status_code}")


class Reviewer(PortalUser):
    fixed_count = 10

    def on_start(self):
        self.resume_session(next(_reviewers))

    @task(3)
    def dashboard(self):
        self.client.get(f"/bang-dieu-khien/{self.me['area']}/", name="/bang-dieu-khien/[huyện|tỉnh]/")

    @task(1)
    def export(self):
        for form in ("01", "03"):
            with self.client.get(
                f"/xuat-bieu/{self.me['area']}/?nam={PLAN['year']}&bieu={form}",
                name=f"/xuat-bieu/[huyện|tỉnh]/ Biểu {form}",
                catch_response=True,
            ) as response:
                if response.headers.get("Content-Type") != XLSX:
                    response.failure(f"no workbook: {response.status_code}")


class Arrival(HttpUser):
    """Someone logging in (form, then password): one every LOGIN_EVERY seconds, each time a fresh browser."""

    fixed_count = 1
    wait_time = constant_pacing(LOGIN_EVERY)

    @task
    def log_in(self):
        self.client.cookies.clear()
        username = next(_arrivals)["username"]
        page = self.client.get("/dang-nhap/", name="/dang-nhap/ (đăng nhập)")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        with self.client.post(
            "/dang-nhap/",
            {"username": username, "password": PLAN["password"], "csrfmiddlewaretoken": token},
            name="/dang-nhap/ POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {response.status_code}")


class Visitor(HttpUser):
    """The login form, anonymous: the near-trivial page (session-less, one small template) to compare with."""

    fixed_count = 1
    wait_time = between(1, 3)

    @task
    def login_form(self):
        self.client.get("/dang-nhap/", name="/dang-nhap/")
