"""Learning forms (Flask-WTF adds CSRF to each)."""

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField
from wtforms.validators import InputRequired, NumberRange


class PositionForm(FlaskForm):
    seconds = DecimalField("Seconds", [InputRequired(), NumberRange(min=0, max=86400)])


class StartForm(FlaskForm):
    """A button that opens a new test attempt (GET never changes anything)."""


class AttemptForm(FlaskForm):
    attempt_id = HiddenField()
