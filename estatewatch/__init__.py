"""EstateWatch: settings, command line and process wiring.

The domain packages (``ingest``, ``vision``, ``alerts``, ``api``, ``store``) do the work; this package only
configures them and starts them in the right processes.
"""

__version__ = "0.1.0"
