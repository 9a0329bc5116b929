//! The standing of a member organisation: its states, the one transition table (admins'
//! decisions and the daily job's date-driven moves), and the decision command. Decisions are
//! for admins only (`decide` takes `&Admin`). Every change is one conditional UPDATE on the
//! expected standing, so two admins (or an admin and the job) acting at once cannot both win.

use chrono::{Months, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::organisation::{self, Organisation, OrganisationRow};
use crate::auth::caller::Admin;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::{ApiError, ConflictCode};
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, links, long_date};

/// A membership period lasts a year from its start (or from the previous end on renewal).
pub const PERIOD_MONTHS: u32 = 12;

/// The standing of a member organisation: one enum for `organisations.membership_status`,
/// defined with the domain's code lists so the caller checks (`auth::caller`) read the same.
pub use crate::codes::MembershipStatus;

crate::text_enum! {
    /// A membership decision.
    pub enum MembershipAction {
        /// active or grace → suspended.
        Suspend = "suspend",
        /// suspended → active.
        Reinstate = "reinstate",
        /// any standing → withdrawn.
        Withdraw = "withdraw",
        /// active, grace or lapsed → active, period extended by a year.
        Renew = "renew",
    }
}

/// Body of `POST /organisations/{id}/membership`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipCommand {
    /// What to do.
    pub action: MembershipAction,
    /// Why (required for suspend and withdraw; up to 2,000 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What moves a standing: an admin's decision, an approved application, or the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An admin's decision.
    Decide(MembershipAction),
    /// The application was approved.
    Admit,
    /// The period's end date has passed (the daily job).
    PeriodEnded,
    /// The grace days after the period's end have passed (the daily job).
    GraceExpired,
}

/// What a transition reads besides the standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The day of the change.
    pub today: NaiveDate,
    /// Start of the current period.
    pub period_start: Option<NaiveDate>,
    /// End of the current period (open-ended when `None`).
    pub period_end: Option<NaiveDate>,
}

/// The standing and period after a change, and the audit action that records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The new standing.
    pub to: MembershipStatus,
    /// Start of the period after the change.
    pub period_start: Option<NaiveDate>,
    /// End of the period after the change.
    pub period_end: Option<NaiveDate>,
    /// Audit action, e.g. `membership.suspended`.
    pub action: &'static str,
}

/// Why a change does not apply to a standing.
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

/// The transition table of a membership. Pure: the caller applies the result with the
/// `from` standing in the UPDATE's WHERE clause.
///
/// Renewal extends the period by a year from its end (or from today once lapsed or when the
/// period was open-ended), so the reminder keys, which carry the period end, start afresh.
pub fn transition(
    from: MembershipStatus,
    change: Change,
    facts: &Facts,
) -> Result<Transition, Refusal> {
    use MembershipAction as A;
    use MembershipStatus as S;
    let keep = |to, action| Transition {
        to,
        period_start: facts.period_start,
        period_end: facts.period_end,
        action,
    };
    let year_from = |d: NaiveDate| d.checked_add_months(Months::new(PERIOD_MONTHS));
    match (change, from) {
        (Change::Admit, S::Applicant) => Ok(Transition {
            to: S::Active,
            period_start: Some(facts.today),
            period_end: year_from(facts.today),
            action: "membership.admitted",
        }),
        (Change::Decide(A::Suspend), S::Active | S::Grace) => {
            Ok(keep(S::Suspended, "membership.suspended"))
        }
        (Change::Decide(A::Reinstate), S::Suspended) => {
            Ok(keep(S::Active, "membership.reinstated"))
        }
        (Change::Decide(A::Withdraw), S::Active | S::Grace | S::Lapsed | S::Suspended) => {
            Ok(keep(S::Withdrawn, "membership.withdrawn"))
        }
        (Change::Decide(A::Renew), S::Active | S::Grace | S::Lapsed) => {
            let restart = from == S::Lapsed || facts.period_end.is_none();
            let start_from = match facts.period_end {
                Some(end) if !restart => end,
                _ => facts.today,
            };
            Ok(Transition {
                to: S::Active,
                period_start: if restart {
                    Some(facts.today)
                } else {
                    facts.period_start
                },
                period_end: year_from(start_from),
                action: "membership.renewed",
            })
        }
        (Change::PeriodEnded, S::Active) => Ok(keep(S::Grace, "membership.grace_started")),
        (Change::GraceExpired, S::Grace) => Ok(keep(S::Lapsed, "membership.lapsed")),
        (Change::Decide(a), _) => Err(Refusal(format!("A {from} membership cannot be {a}."))),
        (other, _) => Err(Refusal(format!(
            "A {from} membership does not move on {other:?}."
        ))),
    }
}

/// Applies `change` to organisation `before` inside a command: the conditional UPDATE on
/// the expected standing, the audit event and the partner event. `Ok(None)` when the row
/// moved meanwhile (the caller decides whether that is an error).
pub fn apply(
    ctx: &mut Ctx<'_>,
    before: &OrganisationRow,
    change: Change,
    today: NaiveDate,
    reason: Option<&str>,
) -> Result<Option<OrganisationRow>, ApiError> {
    let Some(from) = before.membership_status else {
        return Err(ApiError::Conflict {
            code: ConflictCode::NotAMember,
            detail: "Partners have no membership.".into(),
        });
    };
    let facts = Facts {
        today,
        period_start: before.membership_period_start,
        period_end: before.membership_period_end,
    };
    let t = transition(from, change, &facts)?;
    let mut after = before.clone();
    after.membership_status = Some(t.to);
    after.membership_period_start = t.period_start;
    after.membership_period_end = t.period_end;
    after.updated_at = ctx.now;
    let n = diesel::update(
        organisations::table
            .filter(organisations::id.eq(&before.id))
            .filter(organisations::membership_status.eq(from)),
    )
    .set((
        organisations::membership_status.eq(after.membership_status),
        organisations::membership_period_start.eq(after.membership_period_start),
        organisations::membership_period_end.eq(after.membership_period_end),
        organisations::updated_at.eq(after.updated_at),
        organisations::version.eq(organisations::version + 1),
    ))
    .execute(ctx.conn)?;
    if n == 0 {
        return Ok(None);
    }
    after.version = before.version + 1;
    // The snapshot is the organisation's, with the reason beside it (today's shape).
    let mut after_snap =
        serde_json::to_value(Organisation::from(after.clone())).map_err(ApiError::internal)?;
    if let (serde_json::Value::Object(m), Some(r)) = (&mut after_snap, reason) {
        m.insert("membership_reason".into(), json!(r));
    }
    let before_snap =
        serde_json::to_value(Organisation::from(before.clone())).map_err(ApiError::internal)?;
    ctx.audit_raw(
        t.action,
        "organisation",
        &before.id,
        Some(before_snap),
        Some(after_snap),
    )?;
    ctx.publish(command::DomainEvent::MembershipChanged, &before.id)?;
    if let Change::Decide(_) = change {
        super::renewal::close_open(ctx, &before.id)?;
    }
    tell(ctx, &after, change, today, reason)?;
    Ok(Some(after))
}

fn check_reason(cmd: &MembershipCommand) -> Result<Option<String>, ApiError> {
    let reason = cmd
        .reason
        .as_ref()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        let mut e = Vec::new();
        super::organisation::control_characters(&mut e, "reason", r, true);
        crate::error::no_field_errors(e)?;
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::field(
            "reason",
            "invalid_length",
            "Use at most 2,000 characters.",
        ));
    }
    if matches!(
        cmd.action,
        MembershipAction::Suspend | MembershipAction::Withdraw
    ) && reason.is_none()
    {
        return Err(ApiError::field(
            "reason",
            "required",
            "Suspending or withdrawing a membership needs a reason.",
        ));
    }
    Ok(reason)
}

/// Applies an admin's decision to a member's standing.
pub fn decide(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
    cmd: MembershipCommand,
    today: NaiveDate,
) -> Result<OrganisationRow, ApiError> {
    let reason = check_reason(&cmd)?;
    command::run(conn, config, admin, meta, |ctx| {
        let before = organisation::find(ctx.conn, id)?;
        apply(
            ctx,
            &before,
            Change::Decide(cmd.action),
            today,
            reason.as_deref(),
        )?
        .ok_or_else(|| ApiError::Conflict {
            code: ConflictCode::ConcurrentUpdate,
            detail: "The membership changed meanwhile; reload and retry.".into(),
        })
    })
}

/// What a membership email says.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipMail {
    /// The organisation.
    pub organisation_name: String,
    /// Its standing after the change.
    pub status: String,
    /// End of the period, written out.
    pub period_end: Option<crate::i18n::LocalDate>,
    /// When a membership in grace lapses, written out.
    pub lapses_on: Option<crate::i18n::LocalDate>,
    /// Days until the end of the period.
    pub days_left: i64,
    /// Why (suspension, withdrawal).
    pub reason: Option<String>,
    /// The organisation's membership page.
    pub link: String,
}

impl MembershipMail {
    /// The email of organisation `org` (after the change), on `today`.
    pub fn of(
        config: &Config,
        org: &OrganisationRow,
        today: NaiveDate,
        reason: Option<&str>,
    ) -> Self {
        let end = org.membership_period_end;
        Self {
            organisation_name: org.name.clone(),
            status: org
                .membership_status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            period_end: end.map(long_date),
            // The grace days run after the period's last day; the day after them, it lapses.
            lapses_on: end
                .map(|e| e + chrono::Duration::days(config.membership_grace_days + 1))
                .map(long_date),
            days_left: end.map(|e| (e - today).num_days()).unwrap_or(0),
            reason: reason.map(str::to_string),
            link: links::membership(config, &org.id),
        }
    }

    /// The parties of a change to organisation `org`'s membership.
    pub fn parties(org: &OrganisationRow) -> Parties {
        Parties {
            organisation_id: Some(org.id.clone()),
            ..Parties::default()
        }
    }
}

macro_rules! membership_mails {
    ($($(#[$doc:meta])* $name:ident => $kind:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub MembershipMail);
        impl command::Message for $name {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

membership_mails!(
    /// The period ends in 30 or 7 days (the daily job).
    MembershipReminder => MembershipReminder,
    /// The period ended: grace until it lapses.
    MembershipGraceMail => MembershipGrace,
    /// The grace days passed.
    MembershipLapsedMail => MembershipLapsed,
    /// An admin suspended it.
    MembershipSuspendedMail => MembershipSuspended,
    /// An admin reinstated it.
    MembershipReinstatedMail => MembershipReinstated,
    /// An admin withdrew it.
    MembershipWithdrawnMail => MembershipWithdrawn,
    /// An admin renewed it.
    MembershipRenewedMail => MembershipRenewed,
    /// A member asks to renew it (to admins).
    RenewalRequestedMail => MembershipRenewalRequested,
    /// An admin declined a renewal request, saying why (to members).
    RenewalDeclinedMail => MembershipRenewalDeclined,
);

/// True when the grace days after `org`'s period have all passed on `today` (the daily job
/// lapses a membership in grace then: see `jobs::run_on`).
fn grace_over(config: &Config, org: &OrganisationRow, today: NaiveDate) -> bool {
    org.membership_period_end
        .is_some_and(|end| end + chrono::Duration::days(config.membership_grace_days) < today)
}

/// Tells the people the matrix names of a change of standing.
fn tell(
    ctx: &mut Ctx<'_>,
    after: &OrganisationRow,
    change: Change,
    today: NaiveDate,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    use MembershipAction as A;
    let mail = MembershipMail::of(ctx.config, after, today, reason);
    let parties = MembershipMail::parties(after);
    match change {
        Change::Admit => Ok(0),
        // A job that ran late finds grace already over: the same run lapses the membership
        // and says so, instead of a grace email whose deadline has passed.
        Change::PeriodEnded if grace_over(ctx.config, after, today) => Ok(0),
        Change::PeriodEnded => ctx.tell(
            Event::MembershipGraceStarted,
            &parties,
            &MembershipGraceMail(mail),
        ),
        Change::GraceExpired => ctx.tell(
            Event::MembershipLapsed,
            &parties,
            &MembershipLapsedMail(mail),
        ),
        Change::Decide(A::Suspend) => ctx.tell(
            Event::MembershipSuspended,
            &parties,
            &MembershipSuspendedMail(mail),
        ),
        Change::Decide(A::Reinstate) => ctx.tell(
            Event::MembershipReinstated,
            &parties,
            &MembershipReinstatedMail(mail),
        ),
        Change::Decide(A::Withdraw) => ctx.tell(
            Event::MembershipWithdrawn,
            &parties,
            &MembershipWithdrawnMail(mail),
        ),
        Change::Decide(A::Renew) => ctx.tell(
            Event::MembershipRenewed,
            &parties,
            &MembershipRenewedMail(mail),
        ),
    }?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipAction::*;
    use MembershipStatus::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(end: Option<&str>) -> Facts {
        Facts {
            today: day("2031-06-01"),
            period_start: Some(day("2030-04-01")),
            period_end: end.map(day),
        }
    }

    fn to(from: MembershipStatus, c: Change) -> Option<MembershipStatus> {
        transition(from, c, &facts(Some("2031-03-31")))
            .ok()
            .map(|t| t.to)
    }

    #[test]
    fn an_applicant_is_admitted_as_active_for_a_year() {
        let t = transition(Applicant, Change::Admit, &facts(None)).unwrap();
        assert_eq!(t.to, Active);
        assert_eq!(t.period_end, Some(day("2032-06-01")));
    }

    #[test]
    fn an_active_or_grace_membership_can_be_suspended() {
        assert_eq!(to(Active, Change::Decide(Suspend)), Some(Suspended));
        assert_eq!(to(Grace, Change::Decide(Suspend)), Some(Suspended));
    }

    #[test]
    fn a_lapsed_or_withdrawn_membership_cannot_be_suspended() {
        assert_eq!(to(Lapsed, Change::Decide(Suspend)), None);
        assert_eq!(to(Withdrawn, Change::Decide(Suspend)), None);
    }

    #[test]
    fn only_a_suspended_membership_can_be_reinstated() {
        assert_eq!(to(Suspended, Change::Decide(Reinstate)), Some(Active));
        assert_eq!(to(Active, Change::Decide(Reinstate)), None);
    }

    #[test]
    fn any_standing_but_withdrawn_can_be_withdrawn() {
        for s in [Active, Grace, Lapsed, Suspended] {
            assert_eq!(to(s, Change::Decide(Withdraw)), Some(Withdrawn));
        }
        assert_eq!(to(Withdrawn, Change::Decide(Withdraw)), None);
    }

    #[test]
    fn a_suspended_membership_cannot_be_renewed() {
        assert_eq!(to(Suspended, Change::Decide(Renew)), None);
    }

    #[test]
    fn renewal_extends_the_period_from_its_end() {
        let t = transition(Grace, Change::Decide(Renew), &facts(Some("2031-03-31"))).unwrap();
        assert_eq!(t.to, Active);
        assert_eq!(t.period_start, Some(day("2030-04-01")));
        assert_eq!(t.period_end, Some(day("2032-03-31")));
    }

    #[test]
    fn renewal_after_lapse_starts_a_new_year_from_today() {
        let t = transition(Lapsed, Change::Decide(Renew), &facts(Some("2031-03-31"))).unwrap();
        assert_eq!(t.period_start, Some(day("2031-06-01")));
        assert_eq!(t.period_end, Some(day("2032-06-01")));
    }

    #[test]
    fn an_active_membership_enters_grace_when_its_period_ends() {
        assert_eq!(to(Active, Change::PeriodEnded), Some(Grace));
        assert_eq!(to(Suspended, Change::PeriodEnded), None);
    }

    #[test]
    fn a_membership_in_grace_lapses_when_grace_expires() {
        assert_eq!(to(Grace, Change::GraceExpired), Some(Lapsed));
        assert_eq!(to(Active, Change::GraceExpired), None);
    }

    #[test]
    fn a_refusal_names_the_standing_and_the_decision() {
        let r = transition(Lapsed, Change::Decide(Suspend), &facts(None)).unwrap_err();
        assert_eq!(r.0, "A lapsed membership cannot be suspend.");
    }
}
