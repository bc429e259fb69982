"""Streamlit glue for signing in and out: single sign-on through st.login, local accounts, the
demo accounts in demo mode, and the session checks every rerun makes. The rules (passwords,
slowing down failures, time-outs) live in tracker/signin.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from pages._engine import demo_mode, get_engine
from tracker import clock, db, signin
from tracker.access import Viewer
from tracker.models.signin import SignInMethod
from tracker.seed.accounts import demo_accounts

# Session-state keys, one place. The token is the only sign-in state kept in the browser tab.
TOKEN_KEY = "signin_token"
MESSAGE_KEY = "signin_message"
REFUSED_SSO_KEY = "signin_refused_sso"
ACTOR = "sign-in"


def sso_configured() -> bool:
    """Single sign-on is offered when .streamlit/secrets.toml has an [auth] section."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_start(claims: Any) -> dt.datetime | None:
    """When the identity provider signed the person in (the ID token's auth_time or iat), so
    the absolute time-out counts from there, not from this browser tab."""
    for claim in ("auth_time", "iat"):
        value = claims.get(claim)
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
    return None


def _begin(viewer: Viewer, method: SignInMethod, started_at: dt.datetime | None = None) -> None:
    with db.write_session(get_engine(), actor=ACTOR) as session:
        token = signin.start_session(
            session=session, viewer=viewer, method=method, now=clock.now(), started_at=started_at
        )
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(MESSAGE_KEY, None)


def _resume(token: str) -> Viewer | None:
    # Read first; write only when the session ends or its seen-at time is due a move, so a
    # rerun does not take the write lock.
    engine = get_engine()
    now = clock.now()
    with db.read_session(engine) as session:
        check = signin.check_session(
            session=session, token=token, now=now, timeouts=signin.Timeouts.from_environment()
        )
    if check.ending is not None or check.touch:
        with db.write_session(engine, actor=ACTOR) as session:
            signin.record_check(session=session, token=token, now=now, check=check)
    if check.viewer is not None:
        return check.viewer
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[MESSAGE_KEY] = check.message
    if st.user.get("is_logged_in"):
        # The provider's sign-in lasts longer than ours: end it too, or it would start anew.
        st.session_state[REFUSED_SSO_KEY] = str(st.user.get("email") or "")
    return None


def current_viewer() -> Viewer | None:
    """The signed-in person, re-read from the database on every rerun (a changed role or a
    deactivated account takes effect at once), or None when nobody is signed in."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        return _resume(str(token))
    if not st.user.get("is_logged_in"):
        return None
    email = str(st.user.get("email") or "")
    if st.session_state.get(REFUSED_SSO_KEY) == email:
        return None
    refused: signin.SignInRefused | None = None
    with db.write_session(get_engine(), actor=ACTOR) as session:
        try:
            viewer = signin.check_identity(
                session=session, email=email, method=SignInMethod.sso, now=clock.now()
            )
        except signin.SignInRefused as error:
            refused = error
    if refused is not None:
        st.session_state[REFUSED_SSO_KEY] = email
        st.session_state[MESSAGE_KEY] = refused.reason
        return None
    _begin(viewer, SignInMethod.sso, _sso_start(st.user))
    # The provider may have signed them in long ago (its cookie lasts longer than our limit):
    # the new session is checked like any other before anything is shown.
    return _resume(str(st.session_state[TOKEN_KEY]))


def sign_out() -> None:
    """End this session everywhere it is checked, and the single sign-on too."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        with db.write_session(get_engine(), actor=ACTOR) as session:
            signin.end_session(
                session=session, token=str(token), now=clock.now(), reason="signed_out"
            )
    # Nothing of this person's (drafts, choices, the programme in the address) is left for
    # whoever signs in next in this tab.
    st.session_state.clear()
    for key in list(st.query_params):
        try:
            del st.query_params[key]
        except StreamlitAPIException:
            pass  # bound to a widget (a dashboard's view): it names no record, so it may stay
    st.session_state[MESSAGE_KEY] = "You have signed out."
    if st.user.get("is_logged_in"):
        st.logout()


def _local_sign_in() -> None:
    with st.form("signin_local"):
        email = st.text_input("E-mail address", key="signin_email", max_chars=254)
        password = st.text_input("Password", type="password", key="signin_password", max_chars=1024)
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        # Runs its own short transactions, with the slow password check outside them.
        viewer = signin.check_password(
            get_engine(), email=email, password=password, now=clock.now()
        )
    except signin.SignInRefused as error:
        st.error(error.reason, icon=":material/lock:")
        return
    _begin(viewer, SignInMethod.local)
    st.rerun()


def _demo_sign_in() -> None:
    st.subheader("Demo accounts")
    st.caption(
        "This copy runs in demo mode on fictional data: choose whose view to see. "
        "A real installation has no such list."
    )
    for user in demo_accounts():
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{user.name}** · {user.role.value}  \n{user.description}")
            if st.button(
                f"Sign in as {user.name}", key=f"signin_demo_{user.email}", width="content"
            ):
                refused: signin.SignInRefused | None = None
                with db.write_session(get_engine(), actor=ACTOR) as session:
                    try:
                        viewer = signin.check_identity(
                            session=session,
                            email=user.email,
                            method=SignInMethod.demo,
                            now=clock.now(),
                        )
                    except signin.SignInRefused as error:
                        refused = error
                if refused is not None:
                    st.error(refused.reason)
                else:
                    _begin(viewer, SignInMethod.demo)
                    st.rerun()


def show_sign_in() -> None:
    """The sign-in screen: single sign-on when configured, local accounts, and in demo mode the
    demo accounts."""
    st.title("Sign in to Change Tracker")
    message = st.session_state.get(MESSAGE_KEY)
    if message:
        st.info(message, icon=":material/info:")
    if st.user.get("is_logged_in") and st.session_state.get(REFUSED_SSO_KEY):
        st.button("Sign out of single sign-on", on_click=st.logout, key="signin_sso_out")
    elif sso_configured():
        st.button(
            "Sign in with your organisation's account",
            on_click=st.login,
            type="primary",
            key="signin_sso",
        )
        st.caption("Or, if your organisation gave you a Change Tracker password:")
    _local_sign_in()
    if demo_mode():
        _demo_sign_in()
