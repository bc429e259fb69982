"""Organisations, their staff groups, and the people who use the tracker."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.models.base import Versioned, checks_for, enum_type
from tracker.vocabulary import Role

if TYPE_CHECKING:
    from tracker.models.programme import Programme


# A council or partner body.
class OrganisationBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    short_name: str = Field(min_length=2, max_length=12)


class Organisation(OrganisationBase, Versioned, table=True):
    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("short_name"),
        *checks_for(OrganisationBase),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_groups: list["StaffGroup"] = Relationship(back_populates="organisation")
    programmes: list["Programme"] = Relationship(back_populates="organisation")


# What a caller sets to add an organisation.
class OrganisationCreate(OrganisationBase):
    pass


# A new name or short name; `version` is the one the form was built from.
class OrganisationUpdate(SQLModel):
    version: int
    name: str | None = None
    short_name: str | None = None


# A department or team of an organisation, e.g. "Customer services".
class StaffGroupBase(SQLModel):
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    name: str = Field(min_length=2, max_length=120)


class StaffGroup(StaffGroupBase, Versioned, table=True):
    __tablename__ = "staff_group"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "name", name="uq_staff_group_organisation_name"),
        *checks_for(StaffGroupBase),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation: "Organisation" = Relationship(back_populates="staff_groups")


# What a caller sets to add a staff group.
class StaffGroupCreate(StaffGroupBase):
    pass


# A staff group's new name; `version` is the one the form was built from.
class StaffGroupUpdate(SQLModel):
    version: int
    name: str | None = None


# Which organisations a user works for; their scope.
class UserOrganisation(SQLModel, table=True):
    __tablename__ = "user_organisation"
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(
        foreign_key="organisation.id", primary_key=True, ondelete="CASCADE"
    )


# Someone who signs in. Staff users also belong to a staff group, so the staff view can
# say what changes for them.
class UserBase(SQLModel):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=120)
    role: Role = Field(sa_type=enum_type(Role))
    staff_group_id: int | None = Field(
        default=None, foreign_key="staff_group.id", ondelete="SET NULL"
    )
    active: bool = True


class User(UserBase, Versioned, table=True):
    __tablename__ = "app_user"
    __table_args__ = (sa.UniqueConstraint("email"), *checks_for(UserBase))
    id: int | None = Field(default=None, primary_key=True)
    # Argon2id hash for local accounts; None for single sign-on users.
    password_hash: str | None = Field(default=None, max_length=200)
    organisations: list["Organisation"] = Relationship(link_model=UserOrganisation)


# What a caller sets to add a user (their organisations and password are given beside it).
class UserCreate(UserBase):
    pass


# A change to a user: only the fields set change; `version` is the one the form was built from.
class UserUpdate(SQLModel):
    version: int
    email: str | None = None
    name: str | None = None
    role: Role | None = None
    staff_group_id: int | None = None
    active: bool | None = None
