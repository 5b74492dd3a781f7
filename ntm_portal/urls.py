from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ntm_portal import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dang-nhap/", auth_views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("doi-mat-khau/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("doi-mat-khau/xong/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include("areas.urls")),
    path("", include("criteria.urls")),
    path("", include("plans.urls")),
    path("", include("dashboards.urls")),
    path("", include("reports.urls")),
    path("", include("imports.urls")),
    path("", include("recognition.urls")),
    path("", include("audit.urls")),
]
