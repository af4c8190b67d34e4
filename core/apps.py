from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(**kwargs) -> None:
    """Make the database cache's table as part of `migrate`.

    Log-in throttling keeps its counters in the cache, so the table must exist before the
    first request; a separate `createcachetable` step would be one more thing to forget.
    The command is idempotent and does nothing when the cache is Redis.
    """
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Genboard core"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="genboard-cache-table")
