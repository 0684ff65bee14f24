"""A browser named for a person from its User-Agent header ("Firefox on Windows"), for the
Sessions page. Apart from accounts/sessions.py so the model can use it without importing the
audit trail."""

from __future__ import annotations

import re

_BROWSERS = (("Edg", "Edge"), ("OPR", "Opera"), ("Firefox", "Firefox"),
             ("Chrome", "Chrome"), ("Chromium", "Chromium"), ("Safari", "Safari"))  # fmt: skip
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Android", "Android"), ("CrOS", "ChromeOS"), ("Mac OS X", "macOS"),
            ("Macintosh", "macOS"), ("Linux", "Linux"))  # fmt: skip


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox on Windows": enough for a person to recognise their own browser, no more.
    Order matters: Edge and Opera also say Chrome, and Chrome also says Safari."""
    browser = next((name for mark, name in _BROWSERS if re.search(rf"\b{mark}/", user_agent)), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
