//! Membership applications: the stored row, the status and its transition table, and the
//! wire forms.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::membership_applications;
use crate::directory::organisation::json_list;
use crate::error::{ApiError, ConflictCode};
use crate::kit::rfc3339;

/// A stored membership application.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = membership_applications)]
pub struct ApplicationRow {
    /// UUID v7.
    pub id: String,
    /// submitted, under_review, approved or rejected.
    pub status: ApplicationStatus,
    /// Applying organisation's name.
    pub organisation_name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Region code.
    pub region: String,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// JSON array of priority-area codes.
    pub focus_areas: String,
    /// Contact person.
    pub contact_name: String,
    /// Contact email (lower case).
    pub contact_email: String,
    /// Why it wants to join.
    pub motivation: String,
    /// Reason of a rejection.
    pub decision_reason: Option<String>,
    /// The organisation created on approval.
    pub organisation_id: Option<String>,
    /// The admin who decided.
    pub decided_by: Option<String>,
    /// Submitted.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

crate::text_enum! {
    /// Status of a membership application.
    pub enum ApplicationStatus {
        /// Received, not yet looked at.
        Submitted = "submitted",
        /// An admin is reviewing it.
        UnderReview = "under_review",
        /// Accepted: the organisation exists and its contact is invited.
        Approved = "approved",
        /// Declined, with a reason.
        Rejected = "rejected",
    }
}

impl ApplicationStatus {
    /// Statuses of an application still waiting for a decision.
    pub const OPEN: &'static [ApplicationStatus] =
        &[ApplicationStatus::Submitted, ApplicationStatus::UnderReview];
}

/// What an admin does with an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start reviewing it.
    Review,
    /// Accept it.
    Approve,
    /// Decline it.
    Reject,
}

impl Decision {
    /// The verb of the audit action (`membership_application.<verb>`).
    pub fn verb(self) -> &'static str {
        match self {
            Decision::Review => "review_started",
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// Why a decision does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Conflict {
            code: ConflictCode::InvalidTransition,
            detail: r.0,
        }
    }
}

/// The transition table of an application: submitted → under_review → approved / rejected
/// (a submitted one may be decided without review). Pure: the caller applies the result
/// with `from` in the UPDATE's WHERE clause.
pub fn transition(from: ApplicationStatus, d: Decision) -> Result<ApplicationStatus, Refusal> {
    use ApplicationStatus as S;
    match (d, from) {
        (Decision::Review, S::Submitted) => Ok(S::UnderReview),
        (Decision::Approve, S::Submitted | S::UnderReview) => Ok(S::Approved),
        (Decision::Reject, S::Submitted | S::UnderReview) => Ok(S::Rejected),
        (Decision::Review, _) => Err(Refusal(format!(
            "The application is {from}; it cannot become under_review."
        ))),
        (Decision::Approve, _) => Err(Refusal(format!(
            "The application is {from}; it cannot be approved."
        ))),
        (Decision::Reject, _) => Err(Refusal(format!(
            "The application is {from}; it cannot become rejected."
        ))),
    }
}

/// The applying organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationOrganisation {
    /// Name, 2–200 characters once spaces around it are trimmed, on one line.
    #[schema(
        pattern = r"^[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]{0,198}[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(schema_with = crate::codes::schema::country)]
    pub country: String,
    /// Region code.
    #[schema(schema_with = crate::codes::schema::region)]
    pub region: String,
    /// Absolute http(s) URL, up to 500 characters.
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^https?://[^/.\s\x00-\x1F\x7F-\x9F][^\s\x00-\x1F\x7F-\x9F]*$"
    )]
    pub website: Option<String>,
    /// Plain text, up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Priority-area codes.
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::priority_areas)]
    pub focus_areas: Vec<String>,
}

/// The applicant's contact person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationContact {
    /// Name, 1–120 characters once spaces around it are trimmed, on one line; it greets the
    /// applicant in every email, so it may hold no address (`@`, `://` or `www.`).
    #[schema(
        pattern = r"^[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x1F\x7F-\x9F@]([^\x00-\x1F\x7F-\x9F@]{0,118}[^\s\x00-\x1F\x7F-\x9F@])?[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub name: String,
    /// Email; receives every step of the application and, on approval, the invitation.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s<>,\x00-\x1F\x7F-\x9F]+@[^@\s<>,.\x00-\x1F\x7F-\x9F]+(\.[^@\s<>,.\x00-\x1F\x7F-\x9F]+)+$"
    )]
    pub email: String,
}

/// Body of `POST /membership-applications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The applying organisation.
    pub organisation: ApplicationOrganisation,
    /// Its contact person.
    pub contact: ApplicationContact,
    /// Why it wants to join, 10–5,000 characters once spaces around it are trimmed.
    #[schema(
        pattern = r"^[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]{8,4998}[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub motivation: String,
}

/// Body of `POST /membership-applications/{id}/reject`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectApplication {
    /// Sent to the applicant, 1–2,000 characters once spaces around it are trimmed.
    #[schema(
        pattern = r"^[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]([^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]{0,1998}[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F])?[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub reason: String,
}

/// A membership application as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Application {
    /// UUID v7.
    pub id: String,
    /// submitted, under_review, approved or rejected.
    pub status: ApplicationStatus,
    /// The applying organisation.
    pub organisation: ApplicationOrganisation,
    /// Its contact person.
    pub contact: ApplicationContact,
    /// Why it wants to join.
    pub motivation: String,
    /// Reason given on rejection.
    pub decision_reason: Option<String>,
    /// The organisation created on approval.
    pub organisation_id: Option<String>,
    /// Submitted (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<ApplicationRow> for Application {
    fn from(r: ApplicationRow) -> Self {
        Self {
            id: r.id,
            status: r.status,
            organisation: ApplicationOrganisation {
                name: r.organisation_name,
                country: r.country,
                region: r.region,
                website: r.website,
                description: r.description,
                focus_areas: json_list(&r.focus_areas),
            },
            contact: ApplicationContact {
                name: r.contact_name,
                email: r.contact_email,
            },
            motivation: r.motivation,
            decision_reason: r.decision_reason,
            organisation_id: r.organisation_id,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

impl crate::command::Audited for Application {
    const ENTITY: &'static str = "membership_application";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::ApplicationStatus::*;
    use super::*;

    #[test]
    fn a_submitted_application_can_be_reviewed_approved_or_rejected() {
        assert_eq!(transition(Submitted, Decision::Review), Ok(UnderReview));
        assert_eq!(transition(Submitted, Decision::Approve), Ok(Approved));
        assert_eq!(transition(Submitted, Decision::Reject), Ok(Rejected));
    }

    #[test]
    fn an_application_under_review_can_be_approved_or_rejected_but_not_reviewed_again() {
        assert_eq!(transition(UnderReview, Decision::Approve), Ok(Approved));
        assert_eq!(transition(UnderReview, Decision::Reject), Ok(Rejected));
        assert!(transition(UnderReview, Decision::Review).is_err());
    }

    #[test]
    fn a_decided_application_cannot_move_again() {
        for from in [Approved, Rejected] {
            for d in [Decision::Review, Decision::Approve, Decision::Reject] {
                assert!(transition(from, d).is_err(), "{from} {d:?}");
            }
        }
    }
}
