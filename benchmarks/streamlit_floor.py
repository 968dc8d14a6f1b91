"""The least page Streamlit serves: a title. ``bench_app.py --browser`` times it as the floor.

Whatever the app does, its page cannot be drawn sooner than Streamlit's own frontend
draws this one on the same machine.
"""

import streamlit as st

st.title("Streamlit's floor")
