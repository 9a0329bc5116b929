//! What both exports read: the published grants (approved, active, closed) with their fund,
//! donor, grantee, paid and reversed tranches and the dates of their status changes, in one
//! read, oldest first. How each organisation is named in open data is decided here once.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::WITHHELD_NAME;
use super::publication::FundPublicationRow;
use super::settings::OpenData;
use crate::db::DbConn;
use crate::db::schema::{
    disbursements, fund_publications, funds, grant_reports, grants, indicator_results,
    organisations,
};
use crate::directory::OrganisationRow;
use crate::directory::identifiers;
use crate::directory::visibility;
use crate::error::ApiError;
use crate::grants::fund::FundRow;
use crate::grants::grant::{GrantRow, GrantStatus};
use crate::grants::indicators::IndicatorRow;
use crate::grants::report::{ReportKind, ReportStatus};
use crate::grants::tranche::{TrancheRow, TrancheStatus};

/// An organisation as open data names it.
#[derive(Debug, Clone)]
pub struct Party {
    /// Hidden from the public: neither name nor identifier nor country may appear.
    pub hidden: bool,
    /// Its best org-id identifier, when it has one (never for hidden ones).
    pub org_id: Option<String>,
    /// Name (the withheld text for hidden ones).
    pub name: String,
    /// Country (None for hidden ones).
    pub country: Option<String>,
    /// Region code.
    pub region: String,
    /// Internal id, for the fallback identifiers (never for hidden ones).
    pub internal_id: Option<String>,
    /// Every identifier (none for hidden ones).
    pub all_ids: Vec<identifiers::OrgIdentifier>,
}

impl Party {
    /// Builds the public view of an organisation.
    pub fn of(o: &OrganisationRow) -> Self {
        if visibility::is_withheld(o) {
            return Self {
                hidden: true,
                org_id: None,
                name: WITHHELD_NAME.into(),
                country: None,
                region: o.region.clone(),
                internal_id: None,
                all_ids: Vec::new(),
            };
        }
        Self {
            hidden: false,
            org_id: identifiers::best(o).map(|i| i.full()),
            name: o.name.clone(),
            country: Some(o.country.clone()),
            region: o.region.clone(),
            internal_id: Some(o.id.clone()),
            all_ids: identifiers::from_stored(&o.identifiers),
        }
    }

    /// The identifier in 360Giving: the org-id, else `<prefix>-org-<id>`, or a per-grant
    /// `<prefix>-withheld-<grant>` for a hidden organisation (so two grants to it cannot be
    /// linked either).
    pub fn giving_id(&self, open: &OpenData, grant_ref: &str) -> String {
        match (&self.org_id, &self.internal_id) {
            (Some(id), _) => id.clone(),
            (None, Some(internal)) => format!("{}-org-{internal}", open.giving_prefix),
            (None, None) => format!("{}-withheld-{grant_ref}", open.giving_prefix),
        }
    }

    /// The identifier in IATI: the org-id, else `<reporting-org>-<id>`; None when hidden.
    pub fn iati_ref(&self, open: &OpenData) -> Option<String> {
        match (&self.org_id, &self.internal_id) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(internal)) => Some(format!("{}-{internal}", open.network_id())),
            (None, None) => None,
        }
    }
}

/// The reference of a payment in the exports: a digest of the tranche's id, so a payment
/// keeps one stable id without publishing the tranche's own id.
pub fn payment_ref(d: &TrancheRow) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(d.id.as_bytes())[..8])
}

/// One published grant and everything the exports say about it.
#[derive(Debug, Clone)]
pub struct Published {
    /// The grant.
    pub grant: GrantRow,
    /// Its fund.
    pub fund: FundRow,
    /// The fund's publication choices, when set.
    pub publication: Option<FundPublicationRow>,
    /// The grantee, as open data names it.
    pub grantee: Party,
    /// The donor of the fund, as open data names it.
    pub donor: Party,
    /// Paid and reversed tranches, oldest first.
    pub payments: Vec<TrancheRow>,
    /// When it became active.
    pub activated_at: Option<NaiveDateTime>,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
    /// Its indicators, each with the actual of the latest accepted narrative report (none for
    /// a withheld grantee: its results could name it).
    pub indicators: Vec<IndicatorOutcome>,
}

/// An indicator with the actual of the latest accepted narrative report, if any.
pub type IndicatorOutcome = (IndicatorRow, Option<String>);

impl Published {
    /// The date the grant was awarded (approved).
    pub fn award_date(&self) -> NaiveDate {
        self.grant
            .approved_at
            .unwrap_or(self.grant.created_at)
            .date()
    }
}

/// A donor fund and its publication choices.
#[derive(Debug, Clone)]
pub struct PublishedFund {
    /// The fund.
    pub fund: FundRow,
    /// Its publication choices.
    pub publication: FundPublicationRow,
    /// The donor, as open data names it.
    pub donor: Party,
}

/// Everything the exports need, and the latest change in it (the files' modified date).
#[derive(Debug, Clone)]
pub struct OpenDataSet {
    /// Published grants, oldest first.
    pub grants: Vec<Published>,
    /// Funds published as incoming grants.
    pub funds: Vec<PublishedFund>,
    /// Latest update of any row read (None when there is nothing).
    pub modified: Option<NaiveDateTime>,
}

/// Reads the published grants and funds.
pub fn load(conn: &mut DbConn) -> Result<OpenDataSet, ApiError> {
    let mut set = Rows::read(conn)?.assemble()?;
    for p in set.grants.iter_mut().filter(|p| !p.grantee.hidden) {
        let (indicators, decided) = results(conn, &p.grant.id)?;
        p.indicators = indicators;
        if decided.is_some_and(|d| set.modified.is_none_or(|m| d > m)) {
            set.modified = decided;
        }
    }
    Ok(set)
}

/// A grant's indicators with the actuals of its latest accepted narrative report, and when
/// that report was accepted.
fn results(
    conn: &mut DbConn,
    grant_id: &str,
) -> Result<(Vec<IndicatorOutcome>, Option<NaiveDateTime>), ApiError> {
    let indicators = crate::grants::indicators::of_grant(conn, grant_id)?;
    if indicators.is_empty() {
        return Ok((Vec::new(), None));
    }
    let latest: Option<(String, Option<NaiveDateTime>)> = grant_reports::table
        .filter(grant_reports::grant_id.eq(grant_id))
        .filter(grant_reports::kind.eq(ReportKind::Narrative))
        .filter(grant_reports::status.eq(ReportStatus::Accepted))
        .order((grant_reports::decided_at.desc(), grant_reports::id.desc()))
        .select((grant_reports::id, grant_reports::decided_at))
        .first(conn)
        .optional()?;
    let actuals: Vec<(String, String)> = match &latest {
        Some((report, _)) => indicator_results::table
            .filter(indicator_results::report_id.eq(report))
            .select((indicator_results::indicator_id, indicator_results::actual))
            .load(conn)?,
        None => Vec::new(),
    };
    let with = indicators
        .into_iter()
        .map(|i| {
            let actual = actuals
                .iter()
                .find(|(id, _)| *id == i.id)
                .map(|(_, a)| a.clone());
            (i, actual)
        })
        .collect();
    Ok((with, latest.and_then(|(_, d)| d)))
}

/// The rows an open-data set is made of, each read in one query.
struct Rows {
    /// Published grants with their fund and grantee.
    rows: Vec<(GrantRow, FundRow, OrganisationRow)>,
    publications: Vec<FundPublicationRow>,
    /// Funds published as incoming grants.
    incoming: Vec<FundRow>,
    /// Donors of every fund read, by id.
    donors: HashMap<String, OrganisationRow>,
    /// Paid and reversed tranches of the published grants.
    payments: Vec<TrancheRow>,
}

impl Rows {
    fn read(conn: &mut DbConn) -> Result<Rows, ApiError> {
        let rows: Vec<(GrantRow, FundRow, OrganisationRow)> = grants::table
            .inner_join(funds::table)
            .inner_join(organisations::table)
            .filter(grants::status.eq_any(GrantStatus::PUBLISHED))
            .order(grants::id.asc())
            .select((
                GrantRow::as_select(),
                FundRow::as_select(),
                OrganisationRow::as_select(),
            ))
            .load(conn)?;
        let grant_ids: Vec<String> = rows.iter().map(|(g, _, _)| g.id.clone()).collect();
        let mut donor_ids: Vec<String> = rows
            .iter()
            .map(|(_, f, _)| f.donor_organisation_id.clone())
            .collect();
        let publications: Vec<FundPublicationRow> = fund_publications::table
            .select(FundPublicationRow::as_select())
            .load(conn)?;
        let incoming: Vec<FundRow> = funds::table
            .filter(
                funds::id.eq_any(
                    publications
                        .iter()
                        .filter(|p| p.publish_incoming)
                        .map(|p| p.fund_id.clone())
                        .collect::<Vec<_>>(),
                ),
            )
            .order(funds::id.asc())
            .select(FundRow::as_select())
            .load(conn)?;
        donor_ids.extend(incoming.iter().map(|f| f.donor_organisation_id.clone()));
        let donors: HashMap<String, OrganisationRow> = organisations::table
            .filter(organisations::id.eq_any(&donor_ids))
            .select(OrganisationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let payments: Vec<TrancheRow> = disbursements::table
            .filter(disbursements::grant_id.eq_any(&grant_ids))
            .filter(disbursements::status.eq_any([TrancheStatus::Paid, TrancheStatus::Reversed]))
            .order(disbursements::id.asc())
            .select(TrancheRow::as_select())
            .load(conn)?;
        Ok(Rows {
            rows,
            publications,
            incoming,
            donors,
            payments,
        })
    }

    /// Joins the rows into published grants and funds, with the latest update of any of them.
    fn assemble(self) -> Result<OpenDataSet, ApiError> {
        let Rows {
            rows,
            publications,
            incoming,
            donors,
            payments,
        } = self;
        let mut modified: Option<NaiveDateTime> = None;
        let mut bump = |t: NaiveDateTime| {
            if modified.is_none_or(|m| t > m) {
                modified = Some(t);
            }
        };
        let pub_of = |fund_id: &str| publications.iter().find(|p| p.fund_id == fund_id).cloned();
        let party = |id: &str| donors.get(id).map(Party::of);
        let mut out = Vec::new();
        for (g, f, o) in rows {
            bump(g.updated_at);
            bump(f.updated_at);
            bump(o.updated_at);
            let Some(donor) = party(&f.donor_organisation_id) else {
                return Err(ApiError::internal("fund without its donor"));
            };
            if let Some(d) = donors.get(&f.donor_organisation_id) {
                bump(d.updated_at);
            }
            let mine: Vec<TrancheRow> = payments
                .iter()
                .filter(|d| d.grant_id == g.id)
                .cloned()
                .collect();
            for d in &mine {
                bump(d.updated_at);
            }
            let publication = pub_of(&f.id);
            if let Some(p) = &publication {
                bump(p.updated_at);
            }
            out.push(Published {
                activated_at: g.activated_at,
                closed_at: g.closed_at,
                grantee: Party::of(&o),
                donor,
                publication,
                payments: mine,
                indicators: Vec::new(),
                fund: f,
                grant: g,
            });
        }
        let mut published_funds = Vec::new();
        for f in incoming {
            let (Some(publication), Some(donor)) = (pub_of(&f.id), party(&f.donor_organisation_id))
            else {
                continue;
            };
            bump(f.updated_at);
            bump(publication.updated_at);
            published_funds.push(PublishedFund {
                fund: f,
                publication,
                donor,
            });
        }
        Ok(OpenDataSet {
            grants: out,
            funds: published_funds,
            modified,
        })
    }
}
