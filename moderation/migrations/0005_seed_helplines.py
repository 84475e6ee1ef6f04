"""Crisis lines for the first regions: the national numbers each service publishes (US and
Canada 988 by call or text, Samaritans 116 123 in the UK and Ireland, Lifeline 13 11 14 in
Australia, 1737 in New Zealand) and Find A Helpline for everywhere else. The Canadian entry was
re-checked against public pages on 2026-11-21; operators re-verify every line in the admin
before opening to the public (docs/operations.md)."""

import datetime

from django.db import migrations

VERIFIED_ON = datetime.date(2026, 11, 21)

HELPLINES = (
    {"region": "US", "name": "988 Suicide & Crisis Lifeline", "phone": "988",
     "text": "Text 988", "chat_url": "https://988lifeline.org/chat/",
     "url": "https://988lifeline.org/"},
    {"region": "CA", "name": "9-8-8 Suicide Crisis Helpline", "phone": "988",
     "text": "Text 988", "url": "https://988.ca/"},
    {"region": "GB", "name": "Samaritans", "phone": "116 123",
     "url": "https://www.samaritans.org/"},
    {"region": "IE", "name": "Samaritans Ireland", "phone": "116 123",
     "url": "https://www.samaritans.org/ireland/"},
    {"region": "AU", "name": "Lifeline Australia", "phone": "13 11 14",
     "text": "Text 0477 13 11 14", "chat_url": "https://www.lifeline.org.au/crisis-chat/",
     "url": "https://www.lifeline.org.au/"},
    {"region": "NZ", "name": "Need to talk? 1737", "phone": "1737", "text": "Text 1737",
     "url": "https://1737.org.nz/"},
    {"region": "*", "name": "Find A Helpline", "phone": "",
     "url": "https://findahelpline.com/", "hours": "Free, confidential lines in your country"},
)


def add_helplines(apps, schema_editor):
    Helpline = apps.get_model("moderation", "Helpline")
    for entry in HELPLINES:
        Helpline.objects.get_or_create(
            region=entry["region"], name=entry["name"],
            defaults={**entry, "is_verified": True, "verified_on": VERIFIED_ON})


def remove_helplines(apps, schema_editor):
    Helpline = apps.get_model("moderation", "Helpline")
    for entry in HELPLINES:
        Helpline.objects.filter(region=entry["region"], name=entry["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0004_helpline_directory")]

    operations = [migrations.RunPython(add_helplines, remove_helplines)]
