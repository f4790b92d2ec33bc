"""Saved templates: their list and editor (`routes`), their forms, and a campaign saved as one.

The views register on the campaigns blueprint, so their endpoints stay `campaigns.templates`,
`campaigns.edit_template`, ….
"""
