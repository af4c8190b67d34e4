from django.db import migrations

OLD_TASK = "history.sync.sync_credential"


def forget(apps, schema_editor):
    # Before history.tasks.sync_key, sync tasks returned model instances that django-q2
    # pickled into the task row: each held a Credential, ciphertext included, which
    # rotate_keys never re-encrypts. The rows are only a record of past runs.
    apps.get_model("django_q", "Task").objects.filter(func=OLD_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0008_job_tombstones"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
