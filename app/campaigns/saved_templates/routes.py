"""Saved templates: the user's reusable subjects and bodies, a campaign saved as one, and a list to
start a new campaign from (`campaigns.compose` with `?template=<id>`)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.bounds import page_number
from app.campaigns import bp
from app.campaigns.operations import save_as_template
from app.campaigns.personalise import check_content, picker_fields
from app.campaigns.queries import campaign_or_404, template_or_404
from app.campaigns.saved_templates.forms import TemplateForm, TemplateNameForm
from app.extensions import db
from app.forms import EmptyForm
from app.models import Template
from app.ownership import owned

TEMPLATES_PER_PAGE = 20


@bp.route("/templates/")
@login_required
def templates() -> str:
    """The user's saved templates, most recently changed first."""
    page = db.paginate(
        owned(Template).order_by(Template.updated_at.desc(), Template.id.desc()),
        page=request.args.get("page", 1, type=page_number),
        per_page=TEMPLATES_PER_PAGE,
        error_out=False,
    )
    return render_template("campaigns/saved_templates/index.html", page=page, form=EmptyForm())


@bp.route("/templates/new", methods=["GET", "POST"])
@login_required
def new_template() -> str | Response:
    """Write a template from scratch."""
    return edit_template_page(Template(user_id=current_user.id), TemplateForm())


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def edit_template(template_id: int) -> str | Response:
    """Change a saved template; campaigns started from it keep their own copy."""
    template = template_or_404(template_id)
    return edit_template_page(template, TemplateForm(obj=template))


def edit_template_page(template: Template, form: TemplateForm) -> str | Response:
    """Save the form into `template` unless its syntax is broken; unknown fields can't be judged here,
    as a template has no recipients, so only the built-in fields are offered."""
    problems = []
    if form.validate_on_submit():
        text_edited = bool(form.text_body.data.strip())
        problems = [
            problem
            for problem in check_content(
                form.subject.data, form.html_body.data, form.text_body.data, text_edited, []
            )
            if problem.blocking
        ]
        if not problems:
            template.name = form.name.data
            template.subject = form.subject.data
            template.html_body = form.html_body.data
            template.text_body = form.text_body.data
            db.session.add(template)
            db.session.commit()
            flash(f"Template “{template.name}” saved.", "success")
            return redirect(url_for("campaigns.templates"))
        flash("Not saved: please correct the template errors listed below.", "danger")
    return render_template(
        "campaigns/saved_templates/form.html",
        form=form,
        template=template,
        problems=problems,
        fields=picker_fields([]),
    )


@bp.post("/templates/<int:template_id>/delete")
@login_required
def delete_template(template_id: int) -> Response:
    """Delete a saved template; campaigns started from it are not affected."""
    template = template_or_404(template_id)
    db.session.delete(template)
    db.session.commit()
    flash(f"Template “{template.name}” deleted.", "success")
    return redirect(url_for("campaigns.templates"))


@bp.post("/<int:campaign_id>/save-as-template")
@login_required
def save_campaign_as_template(campaign_id: int) -> Response:
    """Keep this campaign's subject and bodies as a template."""
    campaign = campaign_or_404(campaign_id)
    form = TemplateNameForm()
    if not form.validate_on_submit():
        flash(f"Not saved as a template: {' '.join(form.name.errors)}", "danger")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    template = save_as_template(campaign, form.name.data)
    db.session.commit()
    flash(f"Saved as template “{template.name}”.", "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))
