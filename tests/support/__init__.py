"""What the tests share: helpers, harnesses and fakes (no tests here)."""
