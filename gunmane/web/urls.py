from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from gunmane.web.api import pages as account_pages
from gunmane.web.guide.home import home

admin.site.site_header = "gunmane 群マネ 管理"
admin.site.site_title = "gunmane 管理"
admin.site.index_title = "参照データと利用者の管理"

@login_not_required
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """The site's icon (static() is resolved per request: the hashed name exists only after collectstatic)."""
    return HttpResponsePermanentRedirect(static("gunmane/favicon.svg"))


urlpatterns = [
    path("", home, name="home"),
    # browsers ask for /favicon.ico on pages without an icon link (files, error pages): the same icon
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", account_pages.account, name="account"),
    path("accounts/tokens/", account_pages.token_create, name="account_token_create"),
    path("accounts/tokens/<int:pk>/revoke/", account_pages.token_revoke, name="account_token_revoke"),
    path("api/", include("gunmane.web.api.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),  # GUNMANE_ADMIN_PATH, default "admin/"
    path("", include("gunmane.web.registry.urls")),
    path("", include("gunmane.web.analysis.urls")),
    path("groups/", include("gunmane.web.groups.urls")),
    path("surveys/", include("gunmane.web.surveys.urls")),
    path("guide/", include("gunmane.web.guide.urls")),
    path("", include("gunmane.web.jobs.urls")),
]
