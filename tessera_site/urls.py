from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from audits.presenters import asset_audit_context
from contracts.views.browse import asset_detail
from tessera_site.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path(
        "accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The asset page is contracts', its audit sections the audits app's: wired here, one layer up,
    # so that contracts never imports audits.
    path("assets/<int:pk>/", asset_detail, {"audit_context": asset_audit_context}, name="asset_detail"),
    path("", include("contracts.urls")),
    path("audits/", include("audits.urls")),
]

# Errors raised outside views: a lost database is a 503, and /api/ answers JSON (lib.middleware).
handler400 = "tessera_site.lib.middleware.bad_request"
handler500 = "tessera_site.lib.middleware.server_error"
