"""A campaign's report: its views (`routes`), the emails filtered a page at a time (`table`) and their
CSV and Excel export (`export`).

The views register on the campaigns blueprint, so their endpoints stay `campaigns.report`,
`campaigns.export_csv`, ….
"""
