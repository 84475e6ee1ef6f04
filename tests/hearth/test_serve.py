"""The serve command's start-up: the application loaded and frozen before serving."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, sys
import django
django.setup()
from hearth.management.commands.serve import freeze_startup_objects
before = gc.get_freeze_count()
freeze_startup_objects()
print(before, gc.get_freeze_count(), "hearth.asgi" in sys.modules, "chat.consumers" in sys.modules)
"""


def test_the_application_is_loaded_then_kept_out_of_the_collectors_way(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hearth.settings",
           "HEARTH_STATE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    before, after, app_loaded, consumers_loaded = done.stdout.split()
    assert int(before) == 0
    assert int(after) > 100_000  # Django and the app: a full collection no longer walks them
    assert app_loaded == "True" and consumers_loaded == "True"
