"""Sign-in bookkeeping: every attempt to sign in, and the sessions that follow a successful one.
This is a security log, not programme data: it is written outside the audit trail (so it does
not change the data version that dashboards' caches key on). The app never edits old rows, with
one exception: a password attempt is written as a failure before its password is checked (so
attempts arriving meanwhile count it) and settled once to its real outcome straight after."""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.models.base import checks_for, enum_type
from tracker.vocabulary import SignInMethod as SignInMethod
from tracker.vocabulary import SignInOutcome as SignInOutcome


# One attempt to sign in, successful or not; failures slow down the next attempts.
class SignInAttemptBase(SQLModel):
    at: dt.datetime
    # Lower-cased as typed: an unknown address is recorded too, so guessing shows up.
    email: str = Field(max_length=254)
    method: SignInMethod = Field(sa_type=enum_type(SignInMethod))
    outcome: SignInOutcome = Field(sa_type=enum_type(SignInOutcome))


class SignInAttempt(SignInAttemptBase, table=True):
    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        sa.Index("ix_sign_in_attempt_email_at", "email", "at"),
        *checks_for(SignInAttemptBase),
    )
    id: int | None = Field(default=None, primary_key=True)


# A signed-in session, shared by every process through the database: the idle and absolute
# time-outs are checked against it on every rerun.
class UserSessionBase(SQLModel):
    email: str = Field(max_length=254)
    method: SignInMethod = Field(sa_type=enum_type(SignInMethod))
    started_at: dt.datetime
    last_seen_at: dt.datetime
    ended_at: dt.datetime | None = None
    end_reason: str | None = Field(default=None, max_length=60)


class UserSession(UserSessionBase, table=True):
    __tablename__ = "user_session"
    __table_args__ = (sa.Index("ix_user_session_email", "email"), *checks_for(UserSessionBase))
    # A random token: the only thing the browser's session state holds.
    id: str = Field(primary_key=True, max_length=64)
