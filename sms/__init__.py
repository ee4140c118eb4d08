"""SMS adapters: inbound webhooks (Twilio, Kannel) turning wire formats into hall messages."""
