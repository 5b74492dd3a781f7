from django.test import TestCase
from django.urls import reverse
from axes.models import AccessAttempt, AccessLog, AccessFailureLog
from plans import services
from tests.personas import build_world


class Dump(TestCase):
    def test_dump(self):
        w = build_world()
        plan = services.create_plan(user=w.admin, area=w.an_duong, data=services.PlanData(title="KH", year=2024))
        item = services.add_item(user=w.admin, plan=plan, data=services.ItemData(title="Làm đường"))
        services.update_item(user=w.admin, item=item, data=services.ItemData(title="Làm đường thôn"), funding=None) if hasattr(services, "update_item") else None
        AccessAttempt.objects.create(username="x", ip_address="1.2.3.4", user_agent="ua", failures_since_start=3, get_data="", post_data="", http_accept="", path_info="/")
        AccessLog.objects.create(username="x", ip_address="1.2.3.4", user_agent="ua", http_accept="", path_info="/")
        AccessFailureLog.objects.create(username="x", ip_address="1.2.3.4", user_agent="ua", http_accept="", path_info="/")
        self.client.force_login(w.admin)
        h = item.history.first()
        urls = {
            "index": reverse("admin:index"),
            "cl": reverse("admin:plans_planitem_changelist"),
            "import": reverse("admin:plans_planitem_import"),
            "export": reverse("admin:plans_planitem_export"),
            "change": reverse("admin:plans_planitem_change", args=[item.pk]),
            "history": reverse("admin:plans_planitem_history", args=[item.pk]),
            "histform": reverse("admin:plans_planitem_simple_history", args=[item.pk, h.pk]),
            "axes_att": reverse("admin:axes_accessattempt_changelist"),
            "axes_att_ch": reverse("admin:axes_accessattempt_change", args=[AccessAttempt.objects.get().pk]),
            "axes_log": reverse("admin:axes_accesslog_changelist"),
            "axes_log_ch": reverse("admin:axes_accesslog_change", args=[AccessLog.objects.get().pk]),
            "axes_fail": reverse("admin:axes_accessfailurelog_changelist"),
            "axes_fail_ch": reverse("admin:axes_accessfailurelog_change", args=[AccessFailureLog.objects.get().pk]),
            "user_add": reverse("admin:auth_user_add"),
            "user_ch": reverse("admin:auth_user_change", args=[w.admin.pk]),
            "pw": reverse("admin:auth_user_password_change", args=[w.admin.pk]),
        }
        for name, url in urls.items():
            r = self.client.get(url)
            open(f"/tmp/tr/pages/{name}.html", "w").write(f"<!-- {r.status_code} {url} -->\n" + r.content.decode())
        r = self.client.post(urls["change"], {"title": ""})
        open("/tmp/tr/pages/change_post.html", "w").write(r.content.decode())
