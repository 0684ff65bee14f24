"""The financial year's months, April to March: month 1 is April."""

MONTHS = tuple(range(1, 13))
MONTH_LABELS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")
