from django.contrib import admin
from django.urls import path, re_path

from integrations.api import api
from integrations.api import not_found as api_not_found
from integrations.api.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("health/", health, name="health"),
]
