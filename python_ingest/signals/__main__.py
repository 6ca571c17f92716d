import sys

from python_ingest.signals.cli import main

sys.exit(main())
