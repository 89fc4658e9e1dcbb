"""Rendering: step bundles (script + attachments + wrapper + env file) and cloud-init user-data."""
