"""Analysis of incidents along the Lebanon–Syria border.

Pure functions over GeoDataFrames and arrays: validated ingest
(:mod:`geo.ingest`), the incident store (:mod:`geo.store`), density
(:mod:`geo.density`), hot spots (:mod:`geo.hotspots`), border sectors
(:mod:`geo.sectors`), the priority ranking (:mod:`geo.priority`) and the
report (:mod:`geo.report`). Never imports streamlit.
"""

__version__ = "0.1.0"
