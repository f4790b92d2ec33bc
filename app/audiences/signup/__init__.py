"""Public sign-up to a list, with double opt-in (README, "Audience"): the list's hosted form and snippet
post a request (`operations`), a confirmation email goes out through the owner's SMTP account from a
Celery task (`confirmations`), and the contact joins the list only when its signed link is opened."""
