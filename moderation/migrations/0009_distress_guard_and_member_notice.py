from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("moderation", "0008_audit_read_original"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="member_notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="member_in_distress",
            field=models.BooleanField(default=False),
        ),
    ]
