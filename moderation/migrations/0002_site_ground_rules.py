"""The site-wide ground rules a new installation starts with (operators edit them in the
admin). Codes are stable: detectors, notices, sanctions and audit rows cite them."""

from django.db import migrations

SITE_RULES: tuple[tuple[str, str, str], ...] = (
    ("mutual-support", "Support each other",
     "We're here to listen and to be listened to. Share your own experience rather than "
     "telling others what to do."),
    ("respect", "Be kind and respectful",
     "No insults, name-calling, threats or bullying. Disagree gently."),
    ("no-slurs", "No slurs or hate",
     "No slurs or attacks on anyone for who they are."),
    ("non-judgement", "No judgement",
     "Everyone's feelings are valid. No shaming, lecturing or preaching."),
    ("confidentiality", "What's shared here stays here",
     "Don't repeat or screenshot what others share."),
    ("no-contact-details", "No contact details",
     "Don't share phone numbers, emails, addresses or social media, yours or anyone "
     "else's, and don't ask others to move to another app. It keeps everyone safe."),
    ("no-medication-dosing", "No medication or dosing advice",
     "Talk about your experience with treatment, but don't advise others on doses or "
     "medicines. That's for their doctor or pharmacist."),
    ("no-method-details", "No details of self-harm or suicide methods",
     "You can talk about how you feel, always. Please leave out details of methods or "
     "means, which can put others at risk."),
    ("no-spam", "No spam or flooding",
     "No advertising, repeated messages, link floods or shouting in capitals."),
    ("crisis-support", "Reach out if you're in crisis",
     "If you might act on thoughts of suicide, tell us here and we'll show you a helpline, "
     "or call your local emergency number. Peer support isn't a crisis service."),
)



def add_site_rules_and_default_policy(apps, schema_editor):
    GroundRule = apps.get_model("moderation", "GroundRule")
    ScreeningPolicy = apps.get_model("moderation", "ScreeningPolicy")
    for position, (code, title, text) in enumerate(SITE_RULES):
        GroundRule.objects.get_or_create(room=None, code=code, defaults={
            "title": title, "text": text, "position": position})
    ScreeningPolicy.objects.get_or_create(room=None)


def remove_site_rules(apps, schema_editor):
    apps.get_model("moderation", "GroundRule").objects.filter(room=None).delete()
    apps.get_model("moderation", "ScreeningPolicy").objects.filter(room=None).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(add_site_rules_and_default_policy, remove_site_rules)]
