"""Segments: saved filters over a list or all contacts, each page with its live count."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences import bp
from app.audiences.forms import ALL_CONTACTS, SegmentForm
from app.audiences.models import ContactList, Segment
from app.audiences.pages import position_from
from app.audiences.queries import COUNTED_UP_TO, contact_count, contact_page, lists_by_name, tags_by_contact
from app.audiences.segments import describe, segment_contacts
from app.extensions import db
from app.forms import EmptyForm
from app.ownership import owned, owned_or_404


@bp.route("/segments")
@login_required
def segments() -> str:
    """The user's segments, and the form that saves a new one."""
    return segments_page(SegmentForm(formdata=None))


def segments_page(form: SegmentForm) -> str:
    lists = lists_by_name(current_user.id)
    return render_template(
        "audiences/segments.html",
        segments=list(db.session.scalars(owned(Segment).order_by(Segment.name))),
        list_names={contact_list.id: contact_list.name for contact_list in lists},
        form=form.offer([(contact_list.id, contact_list.name) for contact_list in lists]),
        describe=describe,
    )


@bp.post("/segments")
@login_required
def create_segment() -> str | Response | tuple[str, int]:
    """Save a segment and open it with its count."""
    form = SegmentForm()
    form.offer([(contact_list.id, contact_list.name) for contact_list in lists_by_name(current_user.id)])
    if not form.validate_on_submit():
        return segments_page(form), 400
    list_id = None if form.list_id.data == ALL_CONTACTS else owned_or_404(ContactList, form.list_id.data).id
    taken = db.session.scalar(owned(Segment).where(Segment.name == form.name.data))
    if taken is not None:
        form.name.errors = [f"You already have a segment named “{form.name.data}”: choose another name."]
        return segments_page(form), 400
    segment = Segment(
        user_id=current_user.id, name=form.name.data, list_id=list_id, conditions=form.chosen_conditions()
    )
    db.session.add(segment)
    db.session.commit()
    return redirect(url_for("audiences.segment", segment_id=segment.id))


@bp.route("/segments/<int:segment_id>")
@login_required
def segment(segment_id: int) -> str:
    """The segment's conditions, how many contacts match now, and the first of them."""
    chosen = owned_or_404(Segment, segment_id)
    query = segment_contacts(chosen)
    page = contact_page(query, position_from(request.args))
    contact_list = db.session.get(ContactList, chosen.list_id) if chosen.list_id is not None else None
    return render_template(
        "audiences/segment.html",
        segment=chosen,
        contact_list=contact_list,
        conditions=[describe(condition) for condition in chosen.conditions],
        count=contact_count(query),
        counted_up_to=COUNTED_UP_TO,
        page=page,
        tags=tags_by_contact(page.contacts),
        delete_form=EmptyForm(),
    )


@bp.post("/segments/<int:segment_id>/delete")
@login_required
def delete_segment(segment_id: int) -> Response:
    """Delete the segment; no contact changes."""
    chosen = owned_or_404(Segment, segment_id)
    db.session.delete(chosen)
    db.session.commit()
    flash(f"Segment “{chosen.name}” deleted; its contacts are unchanged.", "success")
    return redirect(url_for("audiences.segments"))
