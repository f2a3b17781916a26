"""Tests of the weather client and the dashboard, with a fake provider server."""
