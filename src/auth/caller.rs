//! Callers whose type proves their role. A service that needs an admin takes `&Admin`, so it
//! cannot be called without one: the check happens once, when the value is built (by the
//! extractor in a handler, or by `TryFrom<&Principal>` in a service that serves several roles).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::principal::{Principal, Role, UserPrincipal};
use diesel::prelude::*;

use crate::audit::{Acting, Actor};
use crate::codes::MembershipStatus;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::ApiError;

fn forbidden(roles: &[Role]) -> ApiError {
    ApiError::Forbidden(format!(
        "This action needs the role {}.",
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    ))
}

macro_rules! role_caller {
    ($(#[$meta:meta])* $name:ident: $($role:ident)|+) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(UserPrincipal);

        impl $name {
            /// The roles this caller type admits.
            pub const ROLES: &'static [Role] = &[$(Role::$role),+];

            /// The user behind this caller.
            pub fn user(&self) -> &UserPrincipal {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = UserPrincipal;
            fn deref(&self) -> &UserPrincipal {
                &self.0
            }
        }

        impl TryFrom<&Principal> for $name {
            type Error = ApiError;
            fn try_from(p: &Principal) -> Result<Self, ApiError> {
                match p {
                    Principal::User(u) if Self::ROLES.contains(&u.role) => Ok($name(u.clone())),
                    _ => Err(forbidden(Self::ROLES)),
                }
            }
        }

        impl Acting for $name {
            fn actor(&self) -> Actor {
                Actor::User(self.0.id.clone())
            }
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let who = Principal::from_request(req, payload);
                Box::pin(async move { $name::try_from(&who.await?) })
            }
        }
    };
}

role_caller!(
    /// The secretariat: users, partner apps, membership.
    Admin: Admin
);
role_caller!(
    /// Writes funds and grants and decides on tranches and reports.
    GrantStaff: Admin | GrantOfficer
);
role_caller!(
    /// Records payments.
    Finance: FinanceOfficer
);
role_caller!(
    /// Keeps and confirms what moves money's reference points: the exchange rates and the
    /// raises of funds that wait for a second person.
    FinanceOrAdmin: FinanceOfficer | Admin
);
role_caller!(
    /// Any staff user: reads every fund, grant, tranche and report.
    Staff: Admin | GrantOfficer | FinanceOfficer
);

/// A member user, with the organisation it belongs to.
#[derive(Debug, Clone)]
pub struct OrgMember {
    user: UserPrincipal,
    /// The member's organisation.
    pub organisation_id: String,
}

impl OrgMember {
    /// The user behind this caller.
    pub fn user(&self) -> &UserPrincipal {
        &self.user
    }
}

impl OrgMember {
    /// 403 naming why when the member's organisation may not write: suspended or withdrawn
    /// (its users keep reading until the secretariat restores it), or still an applicant
    /// (nothing to change until the application is approved). Call it at the top of every
    /// member write, inside or before its command.
    pub fn require_in_good_standing(&self, conn: &mut DbConn) -> Result<(), ApiError> {
        // The column's one enum: every value it may hold reads back, so none is a 500.
        let standing: Option<MembershipStatus> = organisations::table
            .find(&self.organisation_id)
            .select(organisations::membership_status)
            .first::<Option<MembershipStatus>>(conn)
            .optional()?
            .flatten();
        match standing {
            Some(s @ (MembershipStatus::Suspended | MembershipStatus::Withdrawn)) => {
                Err(ApiError::Forbidden(format!(
                    "Your organisation's membership is {s}: its users can read but not make \
                     changes until the secretariat restores it."
                )))
            }
            Some(MembershipStatus::Applicant) => Err(ApiError::Forbidden(
                "Your organisation's membership application is not approved yet: its users \
                 can read but not make changes until the secretariat approves it."
                    .into(),
            )),
            Some(MembershipStatus::Active | MembershipStatus::Grace | MembershipStatus::Lapsed)
            | None => Ok(()),
        }
    }
}

impl Deref for OrgMember {
    type Target = UserPrincipal;
    fn deref(&self) -> &UserPrincipal {
        &self.user
    }
}

impl TryFrom<&Principal> for OrgMember {
    type Error = ApiError;
    fn try_from(p: &Principal) -> Result<Self, ApiError> {
        match p {
            Principal::User(u) if u.role == Role::Member => match &u.organisation_id {
                Some(org) => Ok(OrgMember {
                    organisation_id: org.clone(),
                    user: u.clone(),
                }),
                None => Err(forbidden(&[Role::Member])),
            },
            _ => Err(forbidden(&[Role::Member])),
        }
    }
}

impl Acting for OrgMember {
    fn actor(&self) -> Actor {
        Actor::User(self.user.id.clone())
    }
}

impl Acting for Principal {
    fn actor(&self) -> Actor {
        Principal::actor(self)
    }
}

impl Acting for UserPrincipal {
    fn actor(&self) -> Actor {
        Actor::User(self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User(UserPrincipal {
            id: "u".into(),
            role,
            organisation_id: (role == Role::Member).then(|| "o".into()),
            session_id: "s".into(),
        })
    }

    #[test]
    fn each_caller_type_admits_exactly_its_roles() {
        assert!(GrantStaff::try_from(&user(Role::GrantOfficer)).is_ok());
        assert!(GrantStaff::try_from(&user(Role::Admin)).is_ok());
        assert!(GrantStaff::try_from(&user(Role::FinanceOfficer)).is_err());
        assert!(Finance::try_from(&user(Role::Admin)).is_err());
        assert!(FinanceOrAdmin::try_from(&user(Role::Admin)).is_ok());
        assert!(FinanceOrAdmin::try_from(&user(Role::FinanceOfficer)).is_ok());
        assert!(FinanceOrAdmin::try_from(&user(Role::GrantOfficer)).is_err());
        assert!(Admin::try_from(&user(Role::GrantOfficer)).is_err());
        assert!(Staff::try_from(&user(Role::Member)).is_err());
        let m = OrgMember::try_from(&user(Role::Member)).unwrap();
        assert_eq!(m.organisation_id, "o");
        assert!(OrgMember::try_from(&user(Role::Admin)).is_err());
    }
}
