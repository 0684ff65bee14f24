"""Control totals and transfers, funds, actuals, risk-share agreements and settlements."""
