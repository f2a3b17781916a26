"""Run in each server process as it starts (`panel serve --setup`): settings, then the feed."""

from dashboards.server.shared import start_process

start_process()
