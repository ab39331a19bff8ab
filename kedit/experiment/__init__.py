"""``kedit run``'s pipeline, read top to bottom: materialise the data (:mod:`.data`), plan
the cells (:mod:`.plan`, :mod:`.cell`), run each batch of cells (:mod:`.evaluate`) and keep
every finished cell (:mod:`.store`), then report (:mod:`kedit.report`). :mod:`.runner`
strings them together."""
