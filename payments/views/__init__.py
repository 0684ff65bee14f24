"""Money pages: control totals and transfers, the financial recovery fund, risk-share
agreements and their settlements."""
