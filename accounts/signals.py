"""What accounts tells the apps above it, which it must never import (the house's layers).

``account_deleting`` is sent by ``services.user_delete`` inside the deletion's transaction, before
the account's rows go: each app that keeps a user's data deletes what needs more than the
database's cascade (replies to stop, a large table to delete in batches) and answers with a dict of
what it removed (e.g. ``{"conversations": 12}``, ``{"files": 3}``), which the deletion adds up.
Files of the rows the cascade removes are deleted by each app's ``post_delete`` receivers, once the
deletion has committed.
"""

from django.dispatch import Signal

account_deleting = Signal()  # sender: the User class; kwargs: user
