"""The domain: ledger, subscribers, accrual, storage. Knows nothing of SMS, chat or HTTP."""
