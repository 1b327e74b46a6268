"""Account forms. Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH

EMAIL = [DataRequired("Enter your email address."), Length(max=254),
         Email("Enter an email address like name@example.gov.", check_deliverability=False)]
NAME = [DataRequired("Enter your name."), Length(max=120, message="Use at most 120 characters.")]
AGENCY = [Optional(), Length(max=160, message="Use at most 160 characters.")]
NEW_PASSWORD = [DataRequired("Choose a password."),
                Length(min=MIN_LENGTH,
                       message=f"Use at least {MIN_LENGTH} characters. A passphrase of several words works well."),
                Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters.")]
CONFIRM = [DataRequired("Type the password again."), EqualTo("password", "The two passwords do not match.")]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SignUpForm(FlaskForm):
    name = StringField("Full name", NAME)
    email = EmailField("Email address", EMAIL, filters=[_strip])
    agency = StringField("Agency or organization (optional)", AGENCY)
    password = PasswordField("Password", NEW_PASSWORD)
    confirm = PasswordField("Type the password again", CONFIRM)


class LoginForm(FlaskForm):
    email = EmailField("Email address", EMAIL, filters=[_strip])
    password = PasswordField("Password", [DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    remember = BooleanField("Keep me signed in on this device")


class EmailOnlyForm(FlaskForm):
    email = EmailField("Email address", EMAIL, filters=[_strip])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", NEW_PASSWORD)
    confirm = PasswordField("Type the new password again", CONFIRM)


class ProfileForm(FlaskForm):
    name = StringField("Full name", NAME)
    agency = StringField("Agency or organization (optional)", AGENCY)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", [DataRequired("Enter your current password."),
                                                          Length(max=MAX_LENGTH)])
    password = PasswordField("New password", NEW_PASSWORD)
    confirm = PasswordField("Type the new password again", CONFIRM)


class ChangeEmailForm(FlaskForm):
    email = EmailField("New email address", EMAIL)
    password = PasswordField("Your password", [DataRequired("Enter your password."), Length(max=MAX_LENGTH)])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: GET never changes anything, so links lead to one."""
