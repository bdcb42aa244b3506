"""Reading RevMan files (RevMan 5 ``.rm5``, its "Data and analyses" CSV export, RevMan Web /
Cochrane data packages) into the data contract's review folder.

:func:`metareview.revman.read.read_source` returns a :class:`~metareview.revman.model.Review`;
:func:`metareview.revman.write.write_review` writes ``config.yaml`` and ``data/raw/``.
"""
