"""The public sign-up form, read by WTForms: its fields refuse control characters as every form's do."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.address_import.validate import check_address
from app.forms import AppForm, strip

NAME_LENGTH = 255


class PublicSignupForm(AppForm):
    """What the hosted page and the snippet post. No CSRF token: the snippet lives on another site
    (app.signup.routes says what guards it instead)."""

    class Meta:
        csrf = False

    email = StringField(
        "Email address", filters=[strip], validators=[DataRequired("Type your email address.")]
    )
    name = StringField("Name", filters=[strip], validators=[Length(max=NAME_LENGTH)])
    #: The honeypot: a person never sees it, a bot fills in every field.
    website = StringField("Leave this empty")

    def validate_email(self, field: StringField) -> None:
        address, problem = check_address(field.data)
        if problem:
            raise ValidationError(f"That email address won't work: {problem}")
        field.data = address

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]
