#!/usr/bin/env python
"""Django's command-line utility for Openbook; `openbook` (the console script) is the same."""

import sys

from openbook.cli import main

if __name__ == "__main__":
    sys.exit(main())
