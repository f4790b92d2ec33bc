"""The lists: create, rename, delete; a list's page with search and keyset pages; remove and tag its
contacts in bulk; export it as CSV."""

from __future__ import annotations

import flask
from flask import flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences import bp
from app.audiences.export import list_csv
from app.audiences.forms import ListNameForm, TagForm
from app.audiences.models import ContactList
from app.audiences.operations import (
    NameTaken,
    create_list,
    delete_list,
    owned_contact_ids,
    remove_from_list,
    rename_list,
    tag_contacts,
)
from app.audiences.pages import position_from
from app.audiences.queries import contact_page, list_contacts, lists_by_name, tags_by_contact
from app.bounds import record_ids
from app.campaigns.recipients.forms import PasteForm, UploadForm
from app.extensions import db
from app.forms import EmptyForm, search_text
from app.ownership import owned_or_404
from app.wording import counted


@bp.route("/")
@login_required
def index() -> str:
    """The user's lists with their sizes, and the form that creates one."""
    return lists_page(ListNameForm(formdata=None))


def lists_page(form: ListNameForm) -> str:
    return render_template("audiences/index.html", lists=lists_by_name(current_user.id), form=form)


@bp.post("/lists")
@login_required
def create() -> str | Response | tuple[str, int]:
    """Make an empty list and open it, ready for its first import."""
    form = ListNameForm()
    if not form.validate_on_submit():
        return lists_page(form), 400
    try:
        contact_list = create_list(current_user.id, form.name.data)
    except NameTaken as problem:
        form.name.errors = [problem.message]
        return lists_page(form), 400
    db.session.commit()
    flash(f"List “{contact_list.name}” created: import contacts into it below.", "success")
    return redirect(url_for("audiences.show_list", list_id=contact_list.id))


@bp.route("/lists/<int:list_id>")
@login_required
def show_list(list_id: int) -> str:
    """The list's contacts, 50 a page in the order they joined the audience, searchable by address."""
    return list_page(owned_or_404(ContactList, list_id))


def list_page(
    contact_list: ContactList,
    rename_form: ListNameForm | None = None,
    upload_form: UploadForm | None = None,
    paste_form: PasteForm | None = None,
    error: str | None = None,
) -> str:
    search = search_text(request.args) if request.endpoint == "audiences.show_list" else ""
    query = list_contacts(current_user.id, contact_list)
    page = contact_page(query, position_from(request.args), search)
    if rename_form is None:
        rename_form = ListNameForm(formdata=None, data={"name": contact_list.name})
    rename_form.submit.label.text = "Rename"
    return render_template(
        "audiences/list.html",
        contact_list=contact_list,
        count=contact_list.member_count,
        page=page,
        tags=tags_by_contact(page.contacts),
        search=search,
        rename_form=rename_form,
        upload_form=upload_form or UploadForm(formdata=None),
        paste_form=paste_form or PasteForm(formdata=None),
        tag_form=TagForm(formdata=None),
        action_form=EmptyForm(),
        error=error,
    )


@bp.post("/lists/<int:list_id>/rename")
@login_required
def rename(list_id: int) -> str | Response | tuple[str, int]:
    """Give the list a new name (its contacts do not change)."""
    contact_list = owned_or_404(ContactList, list_id)
    form = ListNameForm()
    if not form.validate_on_submit():
        return list_page(contact_list, rename_form=form), 400
    try:
        rename_list(contact_list, form.name.data)
    except NameTaken as problem:
        form.name.errors = [problem.message]
        return list_page(contact_list, rename_form=form), 400
    db.session.commit()
    flash(f"The list is now called “{contact_list.name}”.", "success")
    return redirect(url_for("audiences.show_list", list_id=contact_list.id))


@bp.post("/lists/<int:list_id>/delete")
@login_required
def delete(list_id: int) -> Response:
    """Delete the list; its contacts stay in All contacts and on their other lists."""
    contact_list = owned_or_404(ContactList, list_id)
    name = contact_list.name
    delete_list(contact_list)
    db.session.commit()
    flash(f"List “{name}” deleted. Its contacts are still in All contacts.", "success")
    return redirect(url_for("audiences.index"))


@bp.post("/lists/<int:list_id>/remove")
@login_required
def remove_contacts(list_id: int) -> Response:
    """Take the ticked contacts off this list; they stay contacts."""
    contact_list = owned_or_404(ContactList, list_id)
    chosen = record_ids(request.form.getlist("contact"))
    if not chosen:
        flash("Tick the contacts to remove first.", "warning")
        return redirect(url_for("audiences.show_list", list_id=contact_list.id))
    removed = remove_from_list(contact_list, owned_contact_ids(current_user.id, chosen))
    db.session.commit()
    flash(f"{counted(removed, 'contact')} removed from “{contact_list.name}”.", "success")
    return redirect(url_for("audiences.show_list", list_id=contact_list.id))


@bp.post("/lists/<int:list_id>/tag")
@login_required
def tag_chosen(list_id: int) -> Response:
    """Give a tag to the ticked contacts of this list."""
    contact_list = owned_or_404(ContactList, list_id)
    form = TagForm()
    back = redirect(url_for("audiences.show_list", list_id=contact_list.id))
    chosen = record_ids(request.form.getlist("contact"))
    if not form.validate_on_submit():
        flash(f"No tag added: {next(iter(form.errors.values()))[0]}", "danger")
        return back
    if not chosen:
        flash("Tick the contacts to tag first.", "warning")
        return back
    tagged = tag_contacts(current_user.id, form.tag.data, chosen)
    db.session.commit()
    flash(f"Tag “{form.tag.data}” added to {counted(tagged, 'contact')}.", "success")
    return back


@bp.route("/lists/<int:list_id>/export.csv")
@login_required
def export_csv(list_id: int) -> Response:
    """The whole list as CSV (UTF-8 with BOM, so Excel reads accents), streamed."""
    contact_list = owned_or_404(ContactList, list_id)
    chunks = list_csv(contact_list)
    body = (chunk.encode("utf-8-sig" if number == 0 else "utf-8") for number, chunk in enumerate(chunks))
    return flask.Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=list-{contact_list.id}.csv"},
    )
