from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents.views import home, imports

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
]
