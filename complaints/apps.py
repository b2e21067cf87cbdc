from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaint handling")

    def ready(self) -> None:
        # Connects the Celery signals that carry the request id into tasks.
        # Auth signals → the access log.
        from complaints import (
            config_cache,
            observability,  # noqa: F401
            security_signals,  # noqa: F401
        )

        config_cache.connect()
