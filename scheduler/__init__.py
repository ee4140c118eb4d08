"""Scheduled jobs (APScheduler); each is a thin call into ``core``."""
