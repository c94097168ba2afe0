import sys

from lapor_triage.cli import main

sys.exit(main())
