from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Media archive"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the storage clean-up)
