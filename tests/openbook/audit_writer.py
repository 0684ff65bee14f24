"""Run as a separate process by test_audit: appends events to a system chain and the platform."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbook.settings")

import django  # noqa: E402

django.setup()

from accounts.models import System  # noqa: E402
from openbook.audit import audit_record  # noqa: E402

system = System.objects.get(pk=int(sys.argv[1]))
for n in range(int(sys.argv[2])):
    audit_record(action="test.concurrent", system=system, payload={"pid": os.getpid(), "n": n})
    audit_record(action="test.concurrent", payload={"pid": os.getpid(), "n": n})
