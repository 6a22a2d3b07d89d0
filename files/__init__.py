"""A user's stored files: one store and one extraction pipeline for chat attachments and collector
file items. Uploads are checked, stored (``files.storage``), and read into text pages by a
background job; other apps learn that a file is ready from ``files.signals.file_ready``."""
