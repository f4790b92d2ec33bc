"""Do I see on my pages what my mailbox heard after the campaign: the bounces, complaints and replies,
with each reply's first lines, and can I list just those emails?"""

from __future__ import annotations

import re

from tests.mailbox.conftest import make_mailbox, sent_campaign
from tests.mailbox.test_reader import REPLY, dsn

ROW_ADDRESS = re.compile(r"<tr>\s*<td>([^<]+@[^<]+)</td>")


def test_a_reply_and_a_bounce_read_from_the_real_mailbox_show_on_the_report_and_the_dashboard(
    client, logged_in, dovecot, read_cycle
):
    mailbox = make_mailbox(logged_in, dovecot)
    campaign = sent_campaign(
        mailbox,
        ["fan@rcpt.example", "gone@rcpt.example", "quiet@rcpt.example"],
        ["<f@sender.example>", "<g@sender.example>", "<q@sender.example>"],
    )
    dovecot.deliver(REPLY.format(address="fan@rcpt.example", message_id="<f@sender.example>", n=1).encode())
    dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"))
    read_cycle(mailbox)

    report = client.get(f"/campaigns/{campaign.id}/report").get_data(as_text=True)
    assert 'id="replies"' in report
    assert "fan@rcpt.example" in report
    assert "Count me in for two." in report
    assert re.search(r'data-figure="bounced">1<', report)
    assert re.search(r'data-figure="replied">1<', report)
    assert "3 of 3 sent" in report, "a bounce or a reply does not undo the send"
    assert "5.1.1 550 5.1.1 User unknown" in report

    bounced = client.get(f"/campaigns/{campaign.id}/report?status=bounced").get_data(as_text=True)
    assert ROW_ADDRESS.findall(bounced) == ["gone@rcpt.example"]

    dashboard = client.get("/").get_data(as_text=True)
    assert "Bounced later" in dashboard
    assert "Replied" in dashboard
