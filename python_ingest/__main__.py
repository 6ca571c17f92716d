import sys

from python_ingest.cli import main

sys.exit(main())
