"""The campaign list, compose/edit, the campaign page and its actions.

Each handler loads the campaign through `campaign_or_404` (the user's own, not deleted), calls one
use-case from `operations`, commits once and redirects with a flash message.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock
from app.bounds import page_number, record_id
from app.campaigns import bp
from app.campaigns.forms import SEND_NOW, CampaignForm, ScheduleForm, TestEmailForm
from app.campaigns.operations import (
    EDITABLE,
    ActionRefused,
    Scheduled,
    cancel_campaign,
    create_campaign,
    delete_campaign,
    duplicate_campaign,
    lift_cooldown,
    offered_actions,
    pause_campaign,
    release_held_account,
    resume_campaign,
    save_content,
    schedule_campaign,
    start_from_template,
    unschedule_campaign,
)
from app.campaigns.perform import perform
from app.campaigns.personalise import Problem, check_campaign, check_content, picker_fields
from app.campaigns.preview import preview_recipient, render_preview, send_test
from app.campaigns.preview_choice import chosen_recipient, preview_choices
from app.campaigns.queries import (
    Liveness,
    campaign_account,
    campaign_or_404,
    email_counts,
    emails_to_write,
    recipient_counts,
    template_or_404,
    visible_campaigns,
)
from app.campaigns.recipients.audiences import (
    FIELDS_READ_ON_VIEW_UP_TO,
    audience_count,
    has_audiences,
    refresh_fields,
)
from app.campaigns.saved_templates.forms import TemplateNameForm
from app.celery_app import enqueue_email_writing
from app.extensions import db
from app.forms import EmptyForm
from app.models import Campaign, SuppressionReason
from app.sending.message import HTML_FOOTER, TEXT_FOOTER
from app.settings.account import RELEASED, RESUMED, current_account
from app.smtp_crypto import PasswordUnreadable
from app.states import CampaignStatus
from app.suppression_list import suppress
from app.suppressions.operations import bounced_addresses
from app.timezones import ScheduleTimeError, in_both_zones, local_to_utc

CAMPAIGNS_PER_PAGE = 20
#: Recipients offered in the preview's chooser; any other can be picked by its id in the URL.
PREVIEW_CHOICES = 50


@bp.route("/")
@login_required
def index() -> str:
    """The user's campaigns, newest first, with their recipients and progress."""
    page = db.paginate(
        visible_campaigns().order_by(Campaign.created_at.desc(), Campaign.id.desc()),
        page=request.args.get("page", 1, type=page_number),
        per_page=CAMPAIGNS_PER_PAGE,
        error_out=False,
    )
    ids = [campaign.id for campaign in page.items]
    return render_template(
        "campaigns/index.html",
        page=page,
        counts=email_counts(ids),
        recipients=recipient_counts(ids),
        preparing=emails_to_write(ids),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def compose() -> str | Response:
    """Write a new campaign, from scratch or from a saved template (`?template=<id>`)."""
    draft = Campaign(merge_fields=[], text_edited=False)
    template_id = request.args.get("template", type=record_id)
    if template_id is not None:
        start_from_template(draft, template_or_404(template_id))
    form = CampaignForm(obj=draft)
    if form.validate_on_submit():
        return save_and_show(create_campaign(current_user.id), form)
    return compose_page(form, draft)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int) -> str | Response:
    """Change a draft or a scheduled campaign; saving a scheduled one returns it to draft."""
    campaign = campaign_or_404(campaign_id)
    if campaign.status not in EDITABLE:
        flash(f"“{campaign.name}” is {campaign.status}: it can no longer be edited.", "warning")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    form = CampaignForm(obj=campaign)
    if form.validate_on_submit():
        return save_and_show(campaign, form)
    return compose_page(form, campaign)


def save_and_show(campaign: Campaign, form: CampaignForm) -> str | Response:
    """Save the form into `campaign` unless its templates have syntax errors; the campaign page lists
    what else stands before scheduling (unknown fields among them) in its one notice."""
    content = (form.subject.data, form.html_body.data, form.text_body.data, form.text_edited.data)
    problems = check_content(*content, campaign.merge_fields or [], campaign.longest_values)
    if any(problem.blocking for problem in problems):
        db.session.rollback()
        flash("Not saved: please correct the template errors listed below.", "danger")
        return compose_page(form, campaign, problems)
    try:
        unscheduled = save_content(campaign, form.name.data, *content, form.preheader.data)
    except ActionRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "warning")
        return redirect(url_for("campaigns.index"))
    db.session.commit()
    flash(f"“{campaign.name}” saved.", "success")
    if unscheduled:
        flash(
            "It was scheduled: it is a draft again, with its emails removed. Schedule it when ready.", "info"
        )
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def compose_page(form: CampaignForm, campaign: Campaign, problems: list[Problem] | None = None) -> str:
    return render_template(
        "campaigns/compose.html",
        form=form,
        campaign=campaign,
        fields=picker_fields(campaign.merge_fields or []),
        problems=problems or [],
        footer_html=HTML_FOOTER,
        footer_text=TEXT_FOOTER,
    )


@bp.route("/<int:campaign_id>")
@login_required
def show(campaign_id: int) -> str:
    """The campaign: its status, schedule, progress, preview for a chosen recipient, and its actions."""
    campaign = campaign_or_404(campaign_id)
    return campaign_page(campaign, ScheduleForm(formdata=None, timezone=current_user.timezone))


def campaign_page(
    campaign: Campaign,
    schedule_form: ScheduleForm,
    past: datetime | None = None,
    test_form: TestEmailForm | None = None,
    chosen_id: int | None = None,
) -> str:
    now = clock.utcnow()
    chosen_id = chosen_id or request.args.get("recipient", type=record_id)
    chosen = chosen_recipient(campaign, chosen_id)
    draft = campaign.status == CampaignStatus.DRAFT
    to_audiences = has_audiences(campaign)
    # Once scheduled, its recipients are its emails and the contacts they are being written for: no need
    # to read its lists and segments again (1.2 s at 500,000 contacts).
    audience = audience_count(campaign) if to_audiences and draft else None
    if audience is not None and audience.mailed <= FIELDS_READ_ON_VIEW_UP_TO:
        refresh_fields(campaign)
    counts = email_counts([campaign.id])[campaign.id]
    preparing = emails_to_write([campaign.id])[campaign.id]
    if audience is not None:
        recipient_count = audience.mailed
    elif to_audiences:
        recipient_count = sum(counts.values()) + preparing
    else:
        recipient_count = recipient_counts([campaign.id])[campaign.id]
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        counts=counts,
        preparing=preparing,
        recipient_count=recipient_count,
        audience=audience,
        problems=check_campaign(campaign),
        choices=preview_choices(campaign, PREVIEW_CHOICES),
        chosen=chosen,
        preview=render_preview(campaign, preview_recipient(campaign, chosen, current_user)),
        schedule_form=schedule_form,
        past=past,
        action_form=EmptyForm(),
        template_form=TemplateNameForm(formdata=None, name=campaign.name),
        account=campaign_account(campaign),
        actions=offered_actions(campaign),
        liveness=Liveness.read(now, campaign.id),
        now=now,
        test_form=test_form or TestEmailForm(formdata=None, to=current_user.email),
        bounced=len(bounced_addresses(current_user.id, campaign.id)),
    )


@bp.post("/<int:campaign_id>/schedule")
@login_required
def schedule(campaign_id: int) -> str | Response:
    """Schedule the draft now or at a local date and time; a time already past asks to send now."""
    campaign = campaign_or_404(campaign_id, lock=True)
    form = ScheduleForm()
    if not form.validate_on_submit():
        flash("Not scheduled: please correct the fields marked below.", "danger")
        return campaign_page(campaign, form)
    if form.when.data == SEND_NOW:
        send_at = clock.utcnow()
    else:
        try:
            send_at = local_to_utc(
                datetime.combine(form.send_date.data, form.send_time.data), form.timezone.data
            )
        except ScheduleTimeError as error:
            form.send_time.errors.append(str(error))
            flash("Not scheduled: please correct the fields marked below.", "danger")
            return campaign_page(campaign, form)
        if send_at < clock.utcnow():
            return campaign_page(campaign, form, past=send_at)
    try:
        scheduled = schedule_campaign(campaign, current_account(), send_at)
    except ActionRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    to_audiences = has_audiences(campaign)
    db.session.commit()
    if to_audiences:
        enqueue_email_writing(campaign.id)
    flash(schedule_summary(campaign, scheduled, form), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def schedule_summary(campaign: Campaign, scheduled: Scheduled, form: ScheduleForm) -> str:
    """“Spring sale” is scheduled: 47 emails. 1 recipient was skipped as suppressed. Sends Tue 8 Dec
    09:00 in America/New_York — 15:00 your time (Europe/Paris)."""
    created, skipped = scheduled
    parts = [f"“{campaign.name}” is scheduled: {created:,} emails."]
    if skipped:
        parts.append(f"{skipped:,} recipient{'s were' if skipped != 1 else ' was'} skipped as suppressed.")
    if form.when.data != SEND_NOW:
        assert campaign.scheduled_at is not None, "a scheduled campaign has its time"
        moment = in_both_zones(campaign.scheduled_at, form.timezone.data, current_user.timezone)
        parts.append(f"Sends {moment}.")
    return " ".join(parts)


@bp.post("/<int:campaign_id>/unschedule")
@login_required
def unschedule(campaign_id: int) -> Response:
    """Back to draft, its pending emails removed."""
    return perform(campaign_id, unschedule_campaign, "“{name}” is a draft again: nothing will be sent.")


@bp.post("/<int:campaign_id>/pause")
@login_required
def pause(campaign_id: int) -> Response:
    """Hold the campaign's remaining emails."""
    return perform(
        campaign_id, pause_campaign, "“{name}” is paused: no more emails go out until you resume it."
    )


@bp.post("/<int:campaign_id>/resume")
@login_required
def resume(campaign_id: int) -> Response:
    """Let a paused campaign go on."""
    return perform(campaign_id, resume_campaign, "“{name}” resumes: its remaining emails go out again.")


@bp.post("/<int:campaign_id>/cancel")
@login_required
def cancel(campaign_id: int) -> Response:
    """Stop the campaign for good."""
    return perform(campaign_id, cancel_campaign, "“{name}” is cancelled: its unsent emails will not go out.")


@bp.post("/<int:campaign_id>/resume-sending")
@login_required
def resume_sending(campaign_id: int) -> Response:
    """End the provider's rate-limit cooldown of the campaign's account now, from the campaign page."""
    return perform(campaign_id, lift_cooldown, RESUMED)


@bp.post("/<int:campaign_id>/release-account")
@login_required
def release_account(campaign_id: int) -> Response:
    """Send again through the campaign's account after the problem that held it, from the campaign page."""
    return perform(campaign_id, release_held_account, RELEASED)


@bp.post("/<int:campaign_id>/suppress-bounced")
@login_required
def suppress_bounced(campaign_id: int) -> Response:
    """Put the campaign's hard-bounced addresses (the mailbox does not exist) on the suppression list."""
    campaign = campaign_or_404(campaign_id)
    added = suppress(
        current_user.id, bounced_addresses(current_user.id, campaign.id), SuppressionReason.BOUNCED
    )
    db.session.commit()
    flash(
        f"{added:,} bounced address{'es' if added != 1 else ''} added to your suppressions: "
        "no campaign will mail them again.",
        "success" if added else "info",
    )
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/duplicate")
@login_required
def duplicate(campaign_id: int) -> Response:
    """A new draft copied from this campaign, opened for editing."""
    copy = duplicate_campaign(campaign_or_404(campaign_id))
    db.session.commit()
    flash(f"“{copy.name}” created as a draft, with the same content and recipients.", "success")
    return redirect(url_for("campaigns.edit", campaign_id=copy.id))


@bp.route("/<int:campaign_id>/delete", methods=["GET", "POST"])
@login_required
def delete(campaign_id: int) -> str | Response:
    """Ask, then delete: unsent emails are cancelled, what was sent stays in the dashboard's history."""
    campaign = campaign_or_404(campaign_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("campaigns/delete.html", campaign=campaign, form=form)
    delete_campaign(campaign)
    db.session.commit()
    flash(f"“{campaign.name}” deleted.", "success")
    return redirect(url_for("campaigns.index"))


@bp.post("/<int:campaign_id>/send-test")
@login_required
def send_test_email(campaign_id: int) -> str | Response:
    """Send the email, as the chosen recipient will get it, to up to five addresses (the user's own
    by default); a list that can't be used is shown again with what is wrong."""
    campaign = campaign_or_404(campaign_id)
    chosen = chosen_recipient(campaign, request.form.get("recipient", type=record_id))
    form = TestEmailForm()
    if not form.validate_on_submit():
        flash("No test sent: please correct the addresses.", "danger")
        schedule_form = ScheduleForm(formdata=None, timezone=current_user.timezone)
        return campaign_page(campaign, schedule_form, test_form=form, chosen_id=chosen.id if chosen else None)
    back = redirect(
        url_for("campaigns.show", campaign_id=campaign_id, recipient=chosen.id if chosen else None)
    )
    account = current_account()
    if account is None:
        flash("There is no SMTP account to send through yet: set one up under Settings first.", "warning")
        return back
    try:
        result = send_test(
            campaign, preview_recipient(campaign, chosen, current_user), account, form.addresses
        )
    except PasswordUnreadable as error:
        flash(str(error), "danger")
        return back
    flash(result.message, "success" if result.ok else "danger")
    return back
