"""All contacts, and a contact's own page: attributes, lists, tags and their whole history."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences import bp
from app.audiences.forms import TagForm
from app.audiences.models import Contact, ContactStatus, Tag
from app.audiences.operations import tag_contacts, unsubscribe_contact, untag_contact
from app.audiences.pages import position_from
from app.audiences.queries import (
    COUNTED_UP_TO,
    contact_count,
    contact_page,
    emails_to,
    list_contacts,
    lists_of,
    suppression_of,
    tags_by_contact,
    tags_of,
)
from app.extensions import db
from app.forms import EmptyForm, search_text
from app.ownership import owned_or_404


@bp.route("/contacts")
@login_required
def all_contacts() -> str:
    """Every contact of the user, on a list or not, 50 a page, searchable by address."""
    search = search_text(request.args)
    query = list_contacts(current_user.id, None)
    page = contact_page(query, position_from(request.args), search)
    return render_template(
        "audiences/contacts.html",
        count=contact_count(query),
        counted_up_to=COUNTED_UP_TO,
        page=page,
        tags=tags_by_contact(page.contacts),
        search=search,
    )


@bp.route("/contacts/<int:contact_id>")
@login_required
def contact(contact_id: int) -> str:
    """Everything about one contact: attributes, status and why, lists, tags, and every campaign email."""
    return contact_page_response(owned_or_404(Contact, contact_id), TagForm(formdata=None))


def contact_page_response(person: Contact, tag_form: TagForm) -> str:
    return render_template(
        "audiences/contact.html",
        contact=person,
        lists=lists_of(person),
        tags=tags_of(person),
        emails=emails_to(person),
        suppression=suppression_of(person),
        subscribed=person.status == ContactStatus.SUBSCRIBED,
        tag_form=tag_form,
        action_form=EmptyForm(),
    )


@bp.post("/contacts/<int:contact_id>/tags")
@login_required
def add_tag(contact_id: int) -> str | Response | tuple[str, int]:
    """Give the contact a tag (made if it is new)."""
    person = owned_or_404(Contact, contact_id)
    form = TagForm()
    if not form.validate_on_submit():
        return contact_page_response(person, form), 400
    tag_contacts(current_user.id, form.tag.data, [person.id])
    db.session.commit()
    flash(f"Tagged “{form.tag.data}”.", "success")
    return redirect(url_for("audiences.contact", contact_id=person.id))


@bp.post("/contacts/<int:contact_id>/tags/<int:tag_id>/remove")
@login_required
def remove_tag(contact_id: int, tag_id: int) -> Response:
    """Take a tag off the contact (the tag stays on the others)."""
    person = owned_or_404(Contact, contact_id)
    tag = owned_or_404(Tag, tag_id)
    untag_contact(person, tag)
    db.session.commit()
    flash(f"Tag “{tag.name}” removed.", "success")
    return redirect(url_for("audiences.contact", contact_id=person.id))


@bp.post("/contacts/<int:contact_id>/unsubscribe")
@login_required
def unsubscribe(contact_id: int) -> Response:
    """Stop mailing the contact, from every list: their address goes on the suppression list."""
    person = owned_or_404(Contact, contact_id)
    unsubscribe_contact(person)
    db.session.commit()
    flash(f"{person.address} is unsubscribed: no campaign will mail it, whatever list it is on.", "success")
    return redirect(url_for("audiences.contact", contact_id=person.id))
