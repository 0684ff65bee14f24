"""Writes to money data, one module a subject: control totals, transfers, the fund,
agreements, settlements and the recalculation. Each write is one transaction, checks
accounts.policy and is audited."""
