"""Manage: Programme details. Start a new programme, or keep the open programme's details and
partners current."""

from decimal import Decimal

import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _manage_new_programme as new_programme
from tracker import db, permissions, read
from tracker.models import LawfulBasis, ProgrammeStatus, ProgrammeUpdate
from tracker.safe_text import plain_text
from tracker.services import programmes
from tracker.words import key_words

LABELS = {
    "code": "Code",
    "title": "Title",
    "organisation_id": "Owning organisation",
    "summary": "Summary",
    "vision_statement": "Vision statement",
    "sponsor": "Senior responsible owner",
    "manager": "Programme manager",
    "start_date": "Start date",
    "target_end_date": "Target end date",
    "status": "Status",
    "closed_on": "Closed on",
    "lawful_basis": "Lawful basis",
    "sharing": "Data-sharing agreements",
    "budget": "Budget",
    "expected_benefits": "Expected benefits",
    "partners": "Partners",
}
DATES = new_programme.DATES
LAWFUL_BASIS_HELP = (
    "UK GDPR lets you hold personal data only with a lawful basis. Stakeholders' stance and "
    "notes are personal data, so the programme records which basis it relies on; for a "
    "council's own programme it is usually public task. Ask your data protection officer if "
    "you are unsure."
)


def partner_choice(label: str, key: str, help: str) -> None:
    """Organisations this programme may be pooled with; only the owner's managers choose."""
    st.multiselect(
        label,
        pool.offered,
        format_func=organisations.__getitem__,
        key=key,
        disabled=not shares,
        help=help,
    )


def pounds(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.2f}")


viewer = manage.require_manager()
st.title("Programme details")
manage.show_flash()
engine = common.get_engine()
with db.read_session(engine) as session:
    organisations = read.manage.organisation_choices(session=session)

# Above the selector, so someone whose organisations have no programme yet can start one.
new_programme.new_programme_form(viewer, organisations, LABELS)

choice = manage.choose_programme(viewer)
pid = choice.programme_id
with db.read_session(engine) as session:
    programme = permissions.require_programme(
        session, viewer, permissions.Action.programme_edit, pid
    )
    pool = read.manage.pooling(session=session, viewer=viewer, programme_id=pid)
partners, sharing, shares = pool.partner_ids, pool.sharing_ids, pool.may_change

current = {
    "title": programme.title,
    "summary": programme.summary,
    "vision_statement": programme.vision_statement,
    "sponsor": programme.sponsor,
    "manager": programme.manager,
    "start_date": programme.start_date,
    "target_end_date": programme.target_end_date,
    "status": ProgrammeStatus(programme.status).value,
    "closed_on": programme.closed_on,
    "lawful_basis": LawfulBasis(programme.lawful_basis).value,
    "budget": None if programme.budget is None else float(programme.budget),
    "expected_benefits": (
        None if programme.expected_benefits is None else float(programme.expected_benefits)
    ),
    "partners": partners,
    "sharing": sharing,
}
record_key = f"programme_{pid}"
keys = manage.seed_form("programme", pid, current)
form = manage.record_form(
    viewer,
    pid,
    record_key,
    programme.version,
    programmes.update_programme,
    ProgrammeUpdate,
    programme_id=pid,
)

st.caption(
    f"Owned by {plain_text(organisations[programme.organisation_id])}. Everyone who manages "
    "this programme can change these details; a save made after someone else's is refused, "
    "so nobody's changes are lost without notice."
)
with st.form(f"programme_details_{pid}"):
    st.text_input(
        "Code", programme.code, disabled=True, help="Fixed: links and imports refer to it."
    )
    st.text_input("Title", key=keys["title"], max_chars=160)
    st.text_area(
        "Summary",
        key=keys["summary"],
        max_chars=4000,
        help="What the programme changes and for whom, in plain words.",
    )
    st.text_area(
        "Vision statement",
        key=keys["vision_statement"],
        max_chars=2000,
        help="The one or two sentences people should remember: what will be true afterwards.",
    )
    left, right = st.columns(2)
    left.text_input(
        "Senior responsible owner (sponsor)",
        key=keys["sponsor"],
        max_chars=120,
        help="The senior person accountable for the programme meeting its objectives.",
    )
    right.text_input("Programme manager", key=keys["manager"], max_chars=120)
    left.date_input("Start date", key=keys["start_date"], format="DD/MM/YYYY", **DATES)
    right.date_input("Target end date", key=keys["target_end_date"], format="DD/MM/YYYY", **DATES)
    left.selectbox(
        "Status", [s.value for s in ProgrammeStatus], format_func=key_words, key=keys["status"]
    )
    right.date_input(
        "Closed on (only when the status is closed)",
        key=keys["closed_on"],
        format="DD/MM/YYYY",
        help="Retention of stakeholder data counts from this date.",
        **DATES,
    )
    st.selectbox(
        "Lawful basis for holding stakeholder data",
        [basis.value for basis in LawfulBasis],
        format_func=key_words,
        key=keys["lawful_basis"],
        help="The UK GDPR Article 6 basis: public task, legitimate interests, legal "
        "obligation, consent, contract or vital interests.",
    )
    st.caption(LAWFUL_BASIS_HELP)
    left.number_input(
        "Budget (£, optional)", key=keys["budget"], min_value=0.0, step=1000.0, format="%.2f"
    )
    right.number_input(
        "Expected benefits (£, optional)",
        key=keys["expected_benefits"],
        min_value=0.0,
        step=1000.0,
        format="%.2f",
        help="The financial benefits the business case expects, in pounds.",
    )
    partner_choice(
        "Partners",
        keys["partners"],
        "Other organisations pooling resources into this programme. Their managers can "
        "change its plan too, and milestones can land on their staff groups. Only the owning "
        "organisation's managers choose partners, and only organisations they act for.",
    )
    partner_choice(
        "Partners with a data-sharing agreement",
        keys["sharing"],
        "Only these partners' managers see and keep the programme's stakeholders (stance, "
        "notes, engagements). Record one only when the agreement is signed.",
    )
    if not shares:
        st.caption(
            f"Only {plain_text(organisations[programme.organisation_id])}'s managers and "
            "administrators choose who this programme is pooled with."
        )
    submitted = st.form_submit_button("Save programme details", type="primary")

if submitted:
    draft = {name: st.session_state[key] for name, key in keys.items()}
    draft["partners"] = sorted(draft["partners"])
    draft["sharing"] = sorted(draft["sharing"])
    changes = {name: value for name, value in draft.items() if name not in ("partners", "sharing")}
    for name in ("title", "sponsor", "manager"):
        changes[name] = changes[name].strip()
    changes["budget"] = pounds(draft["budget"])
    changes["expected_benefits"] = pounds(draft["expected_benefits"])

    def save_details(session: Session) -> int:
        version_now = form.update(session, changes)
        if (draft["partners"], draft["sharing"]) != (partners, sharing):
            programmes.set_partners(
                session=session,
                viewer=viewer,
                programme_id=pid,
                organisation_ids=draft["partners"],
                sharing_ids=draft["sharing"],
            )
        return version_now

    new_version = manage.save(viewer, save_details, labels=LABELS)
    if new_version is not None:
        manage.saved(record_key, new_version)
        what = [LABELS[name].lower() for name in current if draft[name] != current[name]]
        manage.flash(f"Saved programme details: {', '.join(what) or 'nothing had changed'}.")
        st.rerun()

manage.reload_button(record_key, keys.values(), key=f"programme_reload_{pid}")
