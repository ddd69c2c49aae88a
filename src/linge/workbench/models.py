"""The workbench keeps no records of its own: login attempts moved to `people` (one lock
for the workbench, the admin and API tokens)."""
