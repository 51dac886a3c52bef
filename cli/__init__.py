"""The ``baolaocai`` command line: the top layer. It drives the flows and the warehouse
and holds no pipeline logic of its own.

:mod:`cli.main` builds the app; :mod:`cli.support` holds what every command shares
(consoles, exit codes, one-line errors); the other modules add their commands with a
``register(app)`` function and import only :mod:`cli.support` of the CLI.
"""
