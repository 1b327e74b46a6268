"""Agency forms (Flask-WTF adds the CSRF token)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from portal_agencies.services import EXPENSE_CATEGORIES

OPTIONAL_DATE = [Optional()]


class CreateAgencyForm(FlaskForm):
    name = StringField("Agency name", [DataRequired("Enter the agency's name."), Length(max=160)])
    coordinator_email = EmailField("Coordinator's account email", [DataRequired("Enter the coordinator's email."),
                                                                   Email(check_deliverability=False)])
    program_manager_email = EmailField("CHP Program Manager's email (optional)",
                                       [Optional(), Email(check_deliverability=False), Length(max=254)])


class AwardForm(FlaskForm):
    award_number = StringField("Award number", [DataRequired("Enter the award number."), Length(max=60)])
    award_date = DateField("Date on the award congratulatory letter", [DataRequired("Enter the award letter date.")])
    funded_positions = IntegerField("Funded SRO positions", [DataRequired("Enter the number of positions."),
                                                             NumberRange(min=1, max=500)])
    mou_submitted_on = DateField("MOU submitted on (optional)", OPTIONAL_DATE)


class MouForm(FlaskForm):
    mou_submitted_on = DateField("MOU submitted on", OPTIONAL_DATE)


class SroForm(FlaskForm):
    name = StringField("Officer's name", [DataRequired("Enter the officer's name."), Length(max=120)])
    role = SelectField("Position", choices=[SelectChoice("initial", "Initial SRO"), SelectChoice("backfill", "Backfill SRO")])
    hire_date = DateField("Hire date (optional)", OPTIONAL_DATE)
    placement_date = DateField("Date placed in the school (backfill)", OPTIONAL_DATE)
    training_completed = DateField("40-hour NASRO basic course completed on", OPTIONAL_DATE)
    expenses_submitted = DateField("Itemized expenses submitted to NASRO on", OPTIONAL_DATE)
    response_center_reported_on = DateField("Prior training reported to the COPS Office Response Center on",
                                             OPTIONAL_DATE)
    response_center_answer = SelectField("The COPS Office's answer", choices=[
        SelectChoice("", "No answer yet"), SelectChoice("satisfied", "The training requirement is satisfied"),
        SelectChoice("retake", "The officer must take the course")],
        validate_choice=False, default="")  # checked by save_sro; a form without it means "no answer yet"
    certificate = FileField("Course certificate (PDF or image, optional)")


class ExpenseForm(FlaskForm):
    category = SelectField("Kind", choices=[SelectChoice(k, v) for k, v in EXPENSE_CATEGORIES.items()])
    description = StringField("Description", [DataRequired("Describe the expense."), Length(max=200)])
    incurred_on = DateField("Date", [DataRequired("Enter the date.")])
    amount = StringField("Amount in dollars", [DataRequired("Enter the amount."), Length(max=20)])


class RosterUploadForm(FlaskForm):
    roster = FileField("Roster CSV")
    as_of = DateField("As of (optional)", OPTIONAL_DATE)


class AgencySettingsForm(FlaskForm):
    program_manager_email = EmailField("CHP Program Manager's email",
                                       [Optional(), Email(check_deliverability=False), Length(max=254)])
    annual_hours_required = IntegerField("In-service hours each officer must complete a training year (0 for none)",
                                         [Optional(), NumberRange(min=0, max=400)], default=0)
    training_year_start_month = SelectField("The training year starts in", coerce=int, choices=[
        SelectChoice(n, name) for n, name in enumerate(("January", "February", "March", "April", "May", "June", "July",
                                                         "August", "September", "October", "November", "December"),
                                                        start=1)], default=1)


class ImportApplyForm(FlaskForm):
    """The previewed file travels back with the confirmation, with the digest of the plan shown."""

    payload = HiddenField()
    digest = HiddenField()


class ButtonForm(FlaskForm):
    pass
