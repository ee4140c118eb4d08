"""Phone credit delivered (§1 "积分兑换话费", issue 16 §2): top-ups sent to the recharge
provider, reconciled when the answer is lost, refunded exactly once when they fail."""
