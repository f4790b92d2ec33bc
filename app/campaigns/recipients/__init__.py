"""A campaign's Recipients page: its views (`routes`), forms, the uploads kept between the review and
the save (`uploads`), and the saving and reading of a campaign's recipients (`store`).

The views register on the campaigns blueprint, so their endpoints stay `campaigns.recipients`,
`campaigns.review_recipients`, …; the import itself is `app.address_import`.
"""
