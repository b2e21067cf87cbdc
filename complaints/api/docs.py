"""/api/docs/: Swagger UI from the vendored drf-spectacular-sidecar assets (no CDN),
its init script served as a file so the CSP needs no inline script."""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import permissions as drf_permissions


class ApiDocsView(SpectacularSwaggerSplitView):
    url_name = "api:schema"
    permission_classes = [drf_permissions.AllowAny]

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        # Always the vendored copy, whatever SPECTACULAR_SETTINGS says.
        from django.templatetags.static import static

        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        from django.templatetags.static import static

        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")
