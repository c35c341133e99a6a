"""Log in and out with Django's auth views and our templates."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

login_view = auth_views.LoginView.as_view(
    template_name="registration/login.html", redirect_authenticated_user=True
)
# POST only (Django refuses GET logouts): the header's button is a form.
logout_view = auth_views.LogoutView.as_view()
