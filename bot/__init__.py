"""The Telegram bot adapter (python-telegram-bot); built on the same handlers as SMS."""
