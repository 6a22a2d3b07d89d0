"""Signals of the files app: apps above it react without files importing them."""

from django.dispatch import Signal

# Sent when a file's extraction ended well (``file``: the StoredFile, its ``text_pages`` written).
file_ready = Signal()
