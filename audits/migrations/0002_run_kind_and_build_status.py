from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditrun",
            name="build_status",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.AddField(
            model_name="auditrun",
            name="run_kind",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
    ]
