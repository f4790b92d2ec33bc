"""Segments: saved filters over a list or all contacts, each page with its live count, its conditions
to edit, and tags to give or take from everyone in it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences import bp
from app.audiences.forms import ALL_CONTACTS, SegmentForm, TagForm, UntagForm
from app.audiences.models import ContactList, Segment, Tag
from app.audiences.operations import tag_segment, untag_segment
from app.audiences.pages import position_from
from app.audiences.queries import COUNTED_UP_TO, contact_count, contact_page, lists_by_name, tags_by_contact
from app.audiences.segments import campaign_names, describe, segment_contacts
from app.campaigns.queries import visible_campaigns
from app.extensions import db
from app.forms import EmptyForm
from app.models import Campaign
from app.ownership import owned, owned_or_404
from app.states import CampaignStatus
from app.wording import counted


@bp.route("/segments")
@login_required
def segments() -> str:
    """The user's segments, and the form that saves a new one."""
    return segments_page(SegmentForm(formdata=None))


def segments_page(form: SegmentForm) -> str:
    chosen = list(db.session.scalars(owned(Segment).order_by(Segment.name)))
    names = campaign_names(current_user.id, chosen)
    return render_template(
        "audiences/segments.html",
        segments=[
            (segment, [describe(condition, names) for condition in segment.conditions]) for segment in chosen
        ],
        list_names={contact_list.id: contact_list.name for contact_list in lists_by_name(current_user.id)},
        form=offered(form),
    )


def offered(form: SegmentForm) -> SegmentForm:
    """The form with the current user's lists and campaigns (those that have sent, or will) to choose."""
    campaigns = db.session.execute(
        visible_campaigns()
        .with_only_columns(Campaign.id, Campaign.name)
        .where(Campaign.status != CampaignStatus.DRAFT)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    lists = [(contact_list.id, contact_list.name) for contact_list in lists_by_name(current_user.id)]
    return form.offer(lists, [(campaign_id, name) for campaign_id, name in campaigns])


@bp.post("/segments")
@login_required
def create_segment() -> str | Response | tuple[str, int]:
    """Save a segment and open it with its count ("Add a condition" only gives the form another row)."""
    form = offered(SegmentForm())
    if form.more.data:
        form.add_row()
        return segments_page(form)
    segment = Segment(user_id=current_user.id)
    if not saved(form, segment):
        return segments_page(form), 400
    db.session.add(segment)
    db.session.commit()
    return redirect(url_for("audiences.segment", segment_id=segment.id))


def saved(form: SegmentForm, segment: Segment) -> bool:
    """Copy a valid form onto the segment; False, with the reasons on the form, if it is not valid."""
    if not form.validate_on_submit():
        return False
    same_name = owned(Segment).where(Segment.name == form.name.data)
    if segment.id is not None:
        same_name = same_name.where(Segment.id != segment.id)
    if db.session.scalar(same_name) is not None:
        form.name.errors = [f"You already have a segment named “{form.name.data}”: choose another name."]
        return False
    list_id = form.list_id.data
    segment.list_id = None if list_id == ALL_CONTACTS else owned_or_404(ContactList, list_id).id
    segment.name = form.name.data
    segment.conditions = form.chosen_conditions()
    return True


@bp.route("/segments/<int:segment_id>")
@login_required
def segment(segment_id: int) -> str:
    """The segment's conditions, how many contacts match now, and the first of them."""
    chosen = owned_or_404(Segment, segment_id)
    return segment_page(chosen, SegmentForm.of(chosen))


def segment_page(
    chosen: Segment, form: SegmentForm, tag_form: TagForm | None = None, untag_form: UntagForm | None = None
) -> str:
    query = segment_contacts(chosen)
    page = contact_page(query, position_from(request.args))
    contact_list = db.session.get(ContactList, chosen.list_id) if chosen.list_id is not None else None
    names = campaign_names(current_user.id, [chosen])
    tags = db.session.execute(owned(Tag).with_only_columns(Tag.id, Tag.name).order_by(Tag.name))
    return render_template(
        "audiences/segment.html",
        segment=chosen,
        contact_list=contact_list,
        conditions=[describe(condition, names) for condition in chosen.conditions],
        count=contact_count(query),
        counted_up_to=COUNTED_UP_TO,
        page=page,
        tags=tags_by_contact(page.contacts),
        form=offered(form),
        tag_form=tag_form or TagForm(formdata=None),
        untag_form=(untag_form or UntagForm(formdata=None)).offer([(tag_id, name) for tag_id, name in tags]),
        delete_form=EmptyForm(),
    )


@bp.post("/segments/<int:segment_id>/edit")
@login_required
def edit_segment(segment_id: int) -> str | Response | tuple[str, int]:
    """Save the segment's new name, list or conditions; its page then counts the contacts they match."""
    chosen = owned_or_404(Segment, segment_id)
    form = offered(SegmentForm())
    if form.more.data:
        form.add_row()
        return segment_page(chosen, form)
    if not saved(form, chosen):
        return segment_page(chosen, form), 400
    db.session.commit()
    flash(f"Segment “{chosen.name}” saved.", "success")
    return redirect(url_for("audiences.segment", segment_id=chosen.id))


@bp.post("/segments/<int:segment_id>/tag")
@login_required
def tag_segment_contacts(segment_id: int) -> str | Response | tuple[str, int]:
    """Give a tag to everyone the segment matches now."""
    chosen = owned_or_404(Segment, segment_id)
    form = TagForm()
    if not form.validate_on_submit():
        return segment_page(chosen, SegmentForm.of(chosen), tag_form=form), 400
    tagged = tag_segment(chosen, form.tag.data)
    db.session.commit()
    flash(f"Tag “{form.tag.data}” added to {counted(tagged, 'contact')}.", "success")
    return redirect(url_for("audiences.segment", segment_id=chosen.id))


@bp.post("/segments/<int:segment_id>/untag")
@login_required
def untag_segment_contacts(segment_id: int) -> str | Response | tuple[str, int]:
    """Take one of the user's tags off everyone the segment matches now."""
    chosen = owned_or_404(Segment, segment_id)
    form = UntagForm()
    tag = (
        db.session.scalar(owned(Tag).where(Tag.id == form.tag_id.data)) if form.validate_on_submit() else None
    )
    if tag is None:
        form.tag_id.errors = [*form.tag_id.errors, "Choose one of your tags."]
        return segment_page(chosen, SegmentForm.of(chosen), untag_form=form), 400
    removed = untag_segment(chosen, tag)
    db.session.commit()
    flash(f"Tag “{tag.name}” removed from {counted(removed, 'contact')}.", "success")
    return redirect(url_for("audiences.segment", segment_id=chosen.id))


@bp.post("/segments/<int:segment_id>/delete")
@login_required
def delete_segment(segment_id: int) -> Response:
    """Delete the segment; no contact changes."""
    chosen = owned_or_404(Segment, segment_id)
    db.session.delete(chosen)
    db.session.commit()
    flash(f"Segment “{chosen.name}” deleted; its contacts are unchanged.", "success")
    return redirect(url_for("audiences.segments"))
