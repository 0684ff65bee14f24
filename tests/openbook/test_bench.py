"""The benchmarks keep working (their numbers are reported, never asserted)."""

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bench_upload_prints_one_json_line(capsys):
    call_command("bench", "upload", "--repeats", "1")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "upload"
    assert result["values"] > 1000
    assert set(result) >= {"seconds", "baseline_seconds", "ratio"}
