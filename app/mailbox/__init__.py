"""Reading the sender's own mailbox for what happened to sent emails after the SMTP server took them:
bounces, complaint reports, auto-replies and replies (issue 19).

A lower layer, like `app.sending`: it knows no web page. `classify` says what a message is, `matching`
finds the email it is about, `outcomes` records it, `reader` walks an IMAP folder in chunks.
"""
