"""Pure calculations for the money: no Django, no database, no clock."""
