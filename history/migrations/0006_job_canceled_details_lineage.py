"""The real providers' statuses: `canceled` becomes a final status, and every stored job is
mapped again from the provider's own status string, without regard to case (AudioPod's ERROR,
CANCELLED and `completed` were "unknown" and polled forever; Suno's CALLBACK_EXCEPTION with
tracks is a success: only kie's call to the caller's webhook failed). New columns keep what
else a record holds (details, lineage, searchable tags and lyrics); the next refresh of a job
fills them.

The status tables are copied here (migrations are frozen): DESIGN.md's table at this point.
"""

from django.db import migrations, models

P, R, S, F, C = "pending", "running", "succeeded", "failed", "canceled"
STATUSES = {
    "apimall": {
        "pending": P, "queued": P, "processing": R, "running": R, "completed": S, "success": S,
        "failed": F, "error": F, "canceled": C, "cancelled": C,
    },
    "apikley": {
        "pending": P, "text_success": R, "first_success": R, "success": S, "create_task_failed": F,
        "generate_audio_failed": F, "sensitive_word_error": F, "callback_exception": F,
    },
    "audiopod": {
        "pending": P, "queued": P, "processing": R, "running": R, "completed": S, "failed": F,
        "error": F, "cancelled": C, "canceled": C,
    },
    "munsit": {"pending": R, "success": S, "failed": F},
}  # fmt: skip
FINAL = (S, F, C)
STOP_POLLING = {"next_poll": None, "polling_since": None, "stale": False}


def remap(apps, schema_editor):
    Job = apps.get_model("history", "Job")
    pairs = Job.objects.exclude(provider_status="").values_list("provider", "provider_status").distinct()
    for provider, raw in list(pairs):
        status = STATUSES.get(provider, {}).get(raw.strip().casefold())
        if status is None:
            continue  # still a string nobody documents: stays "unknown"
        rows = Job.objects.filter(provider=provider, provider_status=raw)
        if provider == "apikley" and raw.strip().casefold() == "callback_exception":
            # Tracks exist: the music is there.
            with_tracks = [
                pk
                for pk, outputs in rows.values_list("pk", "outputs")
                if any(isinstance(o, dict) and o.get("kind") == "audio" for o in outputs or [])
            ]
            Job.objects.filter(pk__in=with_tracks).exclude(status=S).update(status=S, **STOP_POLLING)
            rows = rows.exclude(pk__in=with_tracks)
        rows.exclude(status=status).update(status=status, **(STOP_POLLING if status in FINAL else {}))


class Migration(migrations.Migration):

    dependencies = [
        ('history', '0005_history_at_scale'),
        ('providers', '0002_sync_bookkeeping'),
    ]

    operations = [
        migrations.AddField(
            model_name='job',
            name='details',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='job',
            name='parent_ref',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='job',
            name='search_text',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='job',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('canceled', 'Canceled'), ('unknown', 'Unknown')], max_length=10),
        ),
        migrations.AddIndex(
            model_name='job',
            index=models.Index(condition=models.Q(('parent_ref', ''), _negated=True), fields=['parent_ref'], name='job_lineage'),
        ),
        migrations.RunPython(remap, migrations.RunPython.noop),
    ]
