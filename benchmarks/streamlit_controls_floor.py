"""The app's title and sidebar controls alone: ``bench_app.py --browser`` times it.

The page's own controls (:func:`app.sidebar`: date range, types, sector, density, time
and weight controls) with the bundled record's types and dates, and nothing computed,
read or mapped. The app's page cannot be drawn sooner than Streamlit's frontend draws
these on the same machine; the difference from :mod:`streamlit_floor` is what the
controls alone cost.
"""

import datetime as dt
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import app
from geo import settings

st.set_page_config(page_title="Streamlit's floor, the app's controls", layout="wide")
st.title("Streamlit's floor with the app's controls")
app.sidebar(list(settings.INCIDENT_TYPES), (dt.date(2024, 1, 1), dt.date(2026, 3, 31)))
st.markdown("The controls are drawn.")
