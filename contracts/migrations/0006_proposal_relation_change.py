from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_proposal_supersession"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="relation_change",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
