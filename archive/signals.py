"""Removing a job or a key removes its archived files: the rows go with their job (CASCADE),
and each row's file leaves storage once the deletion is committed (a rolled-back deletion
keeps its files)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import ArchivedFile
from .storage import archive_storage


@receiver(post_delete, sender=ArchivedFile)
def remove_stored_file(sender, instance: ArchivedFile, **kwargs) -> None:
    if instance.path:
        name = instance.path
        transaction.on_commit(lambda: archive_storage().delete(name))
