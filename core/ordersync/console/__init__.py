"""The web console served by ``ordersync run`` at ``/`` (docs/console.md).

- :mod:`.mount`: what the daemon's app mounts (the console, or a page saying it is off);
- :mod:`.app`: the pages and forms;
- :mod:`.auth`: passwords, sessions, CSRF tokens, login limits;
- :mod:`.queries`: what the pages read (``ordersync status`` reads its counts there too);
- :mod:`.actions`: linking and retrying; :mod:`.suggest`: store variants for a listing.
"""
