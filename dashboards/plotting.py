"""Options every plot of the dashboard shares."""

#: Draw on a 2D canvas, not WebGL (HoloViews' default). A few thousand points need no GPU,
#: and without one (a kiosk, a headless or virtual machine) WebGL is emulated in software:
#: copying its canvas on every repaint cost a Refresh click about a second of browser time.
CANVAS = {"backend_opts": {"plot.output_backend": "canvas"}}
