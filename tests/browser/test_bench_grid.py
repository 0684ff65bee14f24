"""`openbook bench grid` times the editable grid in Chromium (its figures are reported, never
asserted: the machine's speed is not a test)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bench_grid_times_the_page_in_chromium(browser):
    from demo.bench import grid

    result = grid.run(repeats=1, chromium=browser)
    assert result["interactive_ms"] > 0 and result["baseline_load_ms"] > 0
    assert set(result) >= {"interactive_ratio", "load_ms", "html_bytes", "server_ms"}
