from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents.views import collections, home, imports, tokens

urlpatterns = [
    path("", home.home, name="home"),
    # Django's sign-in views, in the portal's look (templates/registration/).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("import/", imports.import_page, name="import"),
    path("admin/", admin.site.urls),
    path("agents/", include("agents.urls")),
    # Collections and the marketplace Claude Code reads (issue 9).
    path("collections/", collections.collection_list, name="collections"),
    path("collections/new/", collections.new, name="collection-new"),
    path("collections/add/", collections.add_agents, name="collection-add-any"),
    path("collections/<slug:slug>/", collections.detail, name="collection"),
    path("collections/<slug:slug>/edit/", collections.edit, name="collection-edit"),
    path("collections/<slug:slug>/add/", collections.add_agents, name="collection-add"),
    path("collections/<slug:slug>/plugin.zip", collections.plugin_zip, name="collection-plugin"),
    path("marketplace.json", collections.marketplace_json, name="marketplace"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    # The REST API (issue 10): agents/api/.
    path("api/", include("agents.api.urls")),
    path("account/tokens/<int:pk>/revoke/", tokens.revoke, name="token-revoke"),
]
