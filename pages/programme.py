"""Programme dashboard: one programme's six-stage journey, delivery confidence and why, work,
people, barriers, metrics and its latest narrative."""

import streamlit as st

from pages import _common as common
from pages import _leadership as leadership
from pages import _manage as manage
from pages import _programme_views as views
from tracker import charts, db, permissions, read, words
from tracker.errors import DomainError
from tracker.models import Audience, DeliveryConfidence, Role
from tracker.safe_text import plain_text, safe_markdown
from tracker.services import programmes

VIEWS = ["Journey", "Milestones", "People", "Barriers", "Metrics", "Narrative"]

viewer = common.require_viewer(Role.admin, Role.manager, Role.leadership)
today = common.today()
rows = common.scoped(read.portfolio.portfolio, viewer, today=today)
st.title("Programme dashboard")
if rows.empty:
    st.info("There are no programmes in your organisations yet.")
    st.stop()

titles = dict(zip(rows["code"], rows["title"], strict=True))
asked = manage.asked_programme(
    viewer,
    titles,
    refused="programme {code}",
    warning="That link names a programme that does not exist or is not yours to see. "
    "Showing the first one instead.",
)
common.warn_unknown_params({"view": VIEWS})
code = manage.programme_selectbox(titles, asked, key="programme_choice")
row = rows.set_index("code").loc[code]
programme_id = int(row["programme_id"])
figures = common.cached(read.programme.programme_figures, programme_id=programme_id, today=today)
verdicts = common.cached(read.programme.verdicts, programme_id=programme_id, today=today)
target = words.date_text(row["target_end_date"])

st.header(plain_text(str(row["title"])))
partners = f" with {plain_text(row['partners'])}" if row["partners"] else ""
sponsor = plain_text(row["sponsor"]) if row["sponsor"] else "not named"
st.markdown(
    f"Owned by **{plain_text(row['organisation'])}**{partners} · status **{row['status']}** · "
    f"senior responsible owner **{sponsor}** · {words.date_text(row['start_date'])} to {target}"
)

cols = st.columns(4)
cols[0].metric("Progress", words.percent(figures.progress))
cols[0].caption("Weight of done milestones over weight of milestones not cancelled.")
cols[1].metric("Overdue milestones", figures.overdue)
cols[1].caption(f"{figures.blocked} blocked · {figures.remaining} still to do")
if figures.forecast is None:
    cols[2].metric("Forecast finish (P50)", "No forecast yet")
    cols[2].caption("No milestones were completed in the last 12 weeks.")
else:
    cols[2].metric("Forecast finish (P50)", words.date_text(figures.forecast.p50))
    cols[2].caption(
        f"85% sure by {words.date_text(figures.forecast.p85)}; target end {target}: "
        f"{verdicts.forecast_verdict.label.lower()}."
    )
cols[3].metric("Stance index", words.stance_number(figures.stance_index))
cols[3].caption(
    f"{verdicts.stance_words} · {verdicts.direction_text} over 90 days · {figures.hotspots} "
    f"resistance hotspot{'s' if figures.hotspots != 1 else ''} of {figures.stakeholders} "
    "stakeholders"
)

st.subheader("Delivery confidence")
explanation = verdicts.confidence
leadership.confidence_badge(explanation.rating.value)
st.markdown(explanation.suggested_sentence(strong=leadership.strong, text=plain_text))
if explanation.override is not None:
    st.markdown(explanation.override_sentence(strong=leadership.strong, text=plain_text))
with st.expander("Why: every rule, its evidence and its threshold"):
    st.dataframe(leadership.rules_table(explanation), hide_index=True, width="stretch")
    st.caption("The rules are set out in docs/delivery-confidence.md.")
with db.read_session(common.get_engine()) as session:
    may_override = permissions.allowed(
        viewer,
        permissions.Action.confidence_override,
        permissions.programme_scope(session, programme_id),
    )
if may_override:
    with st.expander("Override the suggested rating"), st.form("programme_override"):
        rating = st.selectbox(
            "Rating",
            [r.value for r in DeliveryConfidence],
            format_func=charts.confidence_text,
            key="programme_override_rating",
        )
        reason = st.text_area(
            "Reason (required, at least 10 characters)",
            key="programme_override_reason",
            max_chars=1000,
        )
        if st.form_submit_button("Record override"):
            try:
                with db.write_session(common.get_engine(), actor=viewer.email) as session:
                    programmes.override_confidence(
                        session=session,
                        viewer=viewer,
                        programme_id=programme_id,
                        rating=rating,
                        reason=reason,
                    )
            except DomainError as error:
                st.error(f"Not saved. {error.field or 'Override'}: {error.reason}")
            else:
                st.success("Override recorded. It is shown beside the suggestion from now on.")

view = st.segmented_control(
    "View", VIEWS, default="Journey", key="view", bind="query-params", required=True
)
if view == "Journey":
    views.show_journey(programme_id, today)
elif view == "Milestones":
    views.show_milestones(programme_id, today, figures.forecast, row["target_end_date"])
elif view == "People":
    # Names only where the viewer's organisation holds the programme's people: the owner, or a
    # partner under a data-sharing agreement (tracker/permissions.py).
    with db.read_session(common.get_engine()) as session:
        scope = permissions.programme_scope(session, programme_id)
    people = scope is not None and scope.may_see_people(viewer)
    views.show_people(
        viewer,
        programme_id,
        today,
        named=people and permissions.allowed(viewer, permissions.Action.stakeholder_read, scope),
        hotspots_named=people,
    )
elif view == "Barriers":
    views.show_barriers(programme_id)
elif view == "Metrics":
    views.show_metrics(programme_id)
else:
    story = common.cached(
        read.programme.latest_narrative,
        programme_id=programme_id,
        audiences=(Audience.leadership, Audience.everyone),
    )
    st.subheader("Latest narrative")
    if story is None:
        st.info("Nothing has been published for leadership yet.")
    else:
        st.markdown(f"#### {plain_text(story['title'])}")
        st.caption(f"Published {words.date_text(story['published_on'])}")
        st.markdown(safe_markdown(story["body"], allowed_image_hosts=common.allowed_image_hosts()))

st.download_button(
    "Download the board pack (PDF)",
    data=lambda: leadership.programme_pack(programme_id, viewer, today),
    file_name=f"{code}-board-pack-{today.isoformat()}.pdf",
    mime="application/pdf",
    icon=":material/picture_as_pdf:",
)
