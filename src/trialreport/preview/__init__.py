"""``trialreport preview``: the HTML report on 127.0.0.1, re-rendered when a source is saved.

The server (standard library :mod:`http.server`) shows the last rendered report with a small
script that polls ``/__version`` and reloads the page when a new render is ready. Saving a
chapter, ``index.qmd``, ``_quarto.yml``, a file in ``data_spec/`` or the data re-renders the HTML
into ``.cache/preview/`` (a prose edit without running any code, through the render cache); a
failing render shows its message in the page and the server keeps running. SIGINT (Ctrl-C) and
SIGTERM stop the server, the render and its kernels.
"""

from trialreport.preview._server import HOST, PREVIEW_DIR, serve_preview

__all__ = ["HOST", "PREVIEW_DIR", "serve_preview"]
