"""The least a Panel page with a line plot costs: one HoloViews curve, nothing else.

Not a dashboard: the benchmark serves it beside ours and the article's to show the floor
that any page of this stack stands on, in the same run, on the same machine. Its data is
made up here; it asks no provider.
"""

import holoviews as hv
import numpy as np
import panel as pn

pn.extension()
hv.extension("bokeh")

minutes = np.arange(100)
curve = hv.Curve((minutes, 15 + 5 * np.sin(minutes / 10)), "minute", "temperature")
pn.Column(pn.pane.HoloViews(curve.opts(responsive=True, height=300,
                                       backend_opts={"plot.output_backend": "canvas"})),
          sizing_mode="stretch_width").servable()
