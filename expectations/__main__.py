"""``python -m expectations``: validate the warehouse with the GX suites."""

from expectations.cli import main

raise SystemExit(main())
