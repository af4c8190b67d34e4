"""Stars and tag links carry their job's `created` (annotations.models: the starred and tag
filters walk them by it, a page at a time)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_dates(apps, schema_editor):
    Job = apps.get_model("history", "Job")
    created = Subquery(Job.objects.filter(pk=OuterRef("job_id")).values("created")[:1])
    for name in ("Star", "JobTag"):
        apps.get_model("annotations", name).objects.update(job_created=created)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]

    operations = [
        migrations.AddField("star", "job_created", models.DateTimeField(null=True)),
        migrations.AddField("jobtag", "job_created", models.DateTimeField(null=True)),
        migrations.RunPython(copy_dates, migrations.RunPython.noop, elidable=True),
        migrations.AlterField("star", "job_created", models.DateTimeField()),
        migrations.AlterField("jobtag", "job_created", models.DateTimeField()),
        migrations.AddIndex(
            "star", models.Index(fields=["user", "-job_created", "-job"], name="star_by_user_date")
        ),
        migrations.AddIndex(
            "jobtag", models.Index(fields=["tag", "-job_created", "-job"], name="jobtag_by_tag_date")
        ),
    ]
