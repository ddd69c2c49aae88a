"""Limits on what people type and upload, shared by forms, intake and the workflow."""

MAX_DESCRIPTION = 2000
MAX_REASON = 500
MAX_ADDRESS = 200
MAX_PHOTOS = 9
