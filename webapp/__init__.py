"""The app's helpers for sign-in, roles and the panels that write (issue 12).

``app.py`` stays the page; what decides who may do what lives here:

- :mod:`webapp.identity`: who the session's user is (:class:`~webapp.identity.Identity`),
  their role read from the store, and whether an app without sign-in may serve on the
  address it was given (loopback only). No streamlit.
- :mod:`webapp.actions`: the writes (commit an upload, undo a batch, grant and revoke a
  role), each reading the role from the store at that moment and calling
  :func:`geo.roles.require` before it writes. No streamlit.
- :mod:`webapp.signin`: ``st.login``/``st.user``/``st.logout``, the refusal on a
  non-loopback address without ``[auth]``, the account box of the sidebar.
- :mod:`webapp.panels`: the stored batches with the undo control, and the admin's
  *Users* expander.
- :mod:`webapp.time_panels`: the sector timeline, the emerging hot spots' caption and the
  comparison of two periods.
- :mod:`webapp.stage_cache`: every cached computation of the page (issue 13): shared
  objects for the incidents, stages and the rendered map; bytes for the downloads.
- :mod:`webapp.map_panel`: the map rendered once into streamlit-folium's arguments and
  drawn through its component; a weight change only sends the sectors' new colours.
- :mod:`webapp.heap`: the long-lived objects frozen out of the garbage collector's full
  scans after the first whole page (no streamlit).
- :mod:`webapp.warmup`: the default page's analysis and data layers computed when the
  server starts (the start-up hook of ``app.py``'s ``st.App``).
- :mod:`webapp.options`: the analysis options the sidebar's controls stand for, and
  where the controls start (no streamlit).

May import: ``geo``, ``layers``, ``mapview`` and streamlit (not in ``identity`` and
``actions``).
``geo`` and ``layers`` never import this package.
"""
