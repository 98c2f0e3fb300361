"""``python -m trialreport``: the command line."""

from trialreport.cli import main

raise SystemExit(main())
