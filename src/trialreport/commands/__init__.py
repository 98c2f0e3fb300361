"""Sub-commands of the ``trialreport`` command line, one module each.

Each module's ``register(subparsers)`` adds its sub-command; heavy libraries are imported only
when a command runs, so ``trialreport --help`` and cached renders start quickly.
"""
