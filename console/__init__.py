"""The merchant self-service web console (§3.4.3, §3.4.4), mounted at /console."""
