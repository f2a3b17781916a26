"""The Panel side of the weather dashboard: the shared feed, its history and the two tabs."""
