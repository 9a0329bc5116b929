//! The directory's query string: filters, sort and paging, parsed once for the list, the
//! facets and the CSV export, with every refusal naming its parameter; and the fingerprint
//! of filters and sort that a cursor carries.

use sha2::{Digest, Sha256};

use crate::codes;
use crate::directory::membership::MembershipStatus;
use crate::directory::organisation::{OrganisationKind, PartnerType};
use crate::directory::visibility::Viewer;
use crate::error::{ApiError, FieldError};
use crate::pagination;

/// Most words of `q` that take part in a search; the rest are ignored.
pub const MAX_TERMS: usize = 8;

/// Sort keys of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Name or acronym matches first, then profile matches; by name, then id, within each.
    /// The default when `q` is given; the same as `Name` without `q`.
    Relevance,
    /// By name, then id.
    Name,
    /// By joined_on, then id.
    JoinedOn,
    /// By updated_at, then id.
    UpdatedAt,
}

impl Sort {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Name => "name",
            Sort::JoinedOn => "joined_on",
            Sort::UpdatedAt => "updated_at",
        }
    }
}

/// The filters of list, facets and export.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Words looked for, accent- and case-insensitively, in name and acronym (as substrings),
    /// and in the profile's city and description (as word prefixes) where the caller may see
    /// the profile. Every word must be found; a `q` with no word in it (only punctuation)
    /// matches nothing.
    pub q: Option<String>,
    /// member or partner.
    pub kind: Option<OrganisationKind>,
    /// Partner type.
    pub partner_type: Option<PartnerType>,
    /// Region code.
    pub region: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Any of these focus areas.
    pub focus_areas: Vec<String>,
    /// Strategic pillar.
    pub pillar: Option<String>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    /// Staff only.
    pub membership_status: Option<MembershipStatus>,
    /// A full org-id identifier (`GB-CHC-1234567`).
    pub identifier: Option<String>,
}

impl Filters {
    /// The folded words of `q` (empty without `q`).
    pub fn terms(&self) -> Vec<String> {
        self.q
            .as_deref()
            .map(|q| super::text::terms(q, MAX_TERMS))
            .unwrap_or_default()
    }
}

/// A parsed list query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Filters.
    pub filters: Filters,
    /// Sort key.
    pub sort: Sort,
    /// Descending when the sort had a leading `-`.
    pub desc: bool,
    /// Page size.
    pub limit: i64,
    /// Cursor of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The sort as sent: its name with a leading `-` when descending.
    pub fn sort_text(&self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.sort.as_str())
    }

    /// A fingerprint of the filters and the sort: a cursor carries it, and a cursor whose
    /// fingerprint differs from its query's is refused instead of paging another result.
    pub fn fingerprint(&self) -> String {
        let f = &self.filters;
        let mut areas = f.focus_areas.clone();
        areas.sort();
        let canonical = format!(
            "q={:?};kind={:?};partner_type={:?};region={:?};country={:?};focus_area={:?};\
             pillar={:?};language={:?};membership_status={:?};identifier={:?};sort={}",
            f.terms(),
            f.kind,
            f.partner_type,
            f.region,
            f.country,
            areas,
            f.pillar,
            f.language,
            f.membership_status,
            f.identifier,
            self.sort_text()
        );
        hex::encode(&Sha256::digest(canonical.as_bytes())[..12])
    }
}

/// Which parameters an endpoint takes besides the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The paginated list: sort, limit, cursor.
    List,
    /// The CSV export: sort.
    Export,
    /// Facet counts: filters only.
    Facets,
}

/// Parses a query string; repeated `focus_area` is allowed, unknown or repeated other
/// parameters are 400 naming the parameter. `membership_status` is 403 for non-staff.
pub fn parse_query(raw: &str, viewer: &Viewer, endpoint: Endpoint) -> Result<ListQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|_| ApiError::field("query", "invalid", "The query string is malformed."))?;
    let mut f = Filters::default();
    let mut sort = None;
    let mut limit = None;
    let mut cursor = None;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k != "focus_area" {
            if seen.contains(&k) {
                errors.push(FieldError::new(
                    k.clone(),
                    "repeated",
                    format!("`{k}` may appear once."),
                ));
                continue;
            }
            seen.push(k.clone());
        }
        let read = match k.as_str() {
            "sort" if endpoint != Endpoint::Facets => read_sort(&v).map(|s| sort = Some(s)),
            "limit" if endpoint == Endpoint::List => match v.parse::<i64>() {
                Ok(n) => {
                    limit = Some(n);
                    Ok(())
                }
                Err(_) => Err(FieldError::new(
                    "limit",
                    "invalid",
                    "limit is a number from 1 to 100.",
                )),
            },
            "cursor" if endpoint == Endpoint::List => {
                cursor = Some(v);
                Ok(())
            }
            _ => read_filter(&mut f, &k, v, viewer)?.unwrap_or_else(|| {
                Err(FieldError::new(
                    k.clone(),
                    "unknown_parameter",
                    format!("`{k}` is not a parameter of this endpoint."),
                ))
            }),
        };
        if let Err(e) = read {
            errors.push(e);
        }
    }
    crate::error::no_field_errors(errors)?;
    // Relevance without words to rank by is the name order.
    let (mut sort, desc) = sort.unwrap_or((Sort::Relevance, false));
    if sort == Sort::Relevance && f.terms().is_empty() {
        sort = Sort::Name;
    }
    Ok(ListQuery {
        filters: f,
        sort,
        desc,
        limit: pagination::limit(limit)?,
        cursor,
    })
}

/// What reading one parameter gave: taken into the query, or refused naming it.
type Read = Result<(), FieldError>;

/// `sort`: a key with a leading `-` for descending (relevance sorts best first only).
fn read_sort(v: &str) -> Result<(Sort, bool), FieldError> {
    let (desc, key) = match v.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, v),
    };
    let s = match key {
        "relevance" => Some(Sort::Relevance),
        "name" => Some(Sort::Name),
        "joined_on" => Some(Sort::JoinedOn),
        "updated_at" => Some(Sort::UpdatedAt),
        _ => None,
    };
    match s {
        Some(Sort::Relevance) if desc => Err(FieldError::new(
            "sort",
            "invalid",
            "relevance sorts best first only; drop the leading -.",
        )),
        Some(s) => Ok((s, desc)),
        None => Err(FieldError::new(
            "sort",
            "invalid",
            "Use relevance, name, joined_on or updated_at, with a leading - for \
             descending (not relevance).",
        )),
    }
}

/// Reads filter `k` into `f`; `None` when `k` is no filter. `membership_status` is 403 for
/// non-staff.
fn read_filter(
    f: &mut Filters,
    k: &str,
    v: String,
    viewer: &Viewer,
) -> Result<Option<Read>, ApiError> {
    let bad = |code: &str, msg: &str| Err(FieldError::new(k, code, msg));
    Ok(Some(match k {
        "q" => {
            let t = v.trim().to_string();
            if t.chars().count() > 200 {
                bad("invalid_length", "Search at most 200 characters.")
            } else {
                if !t.is_empty() {
                    f.q = Some(t);
                }
                Ok(())
            }
        }
        "kind" => match OrganisationKind::parse(&v) {
            Some(k) => {
                f.kind = Some(k);
                Ok(())
            }
            None => bad("invalid", "Use member or partner."),
        },
        "partner_type" => match PartnerType::parse(&v) {
            Some(p) => {
                f.partner_type = Some(p);
                Ok(())
            }
            None => bad(
                "invalid",
                "Use donor, community_network, un_agency, academic or other.",
            ),
        },
        "membership_status" => {
            if !viewer.is_staff() {
                return Err(ApiError::Forbidden(
                    "Only staff may filter by membership_status.".into(),
                ));
            }
            match MembershipStatus::parse(&v) {
                Some(s) => {
                    f.membership_status = Some(s);
                    Ok(())
                }
                None => bad(
                    "invalid",
                    "Use active, grace, lapsed, suspended or withdrawn.",
                ),
            }
        }
        "identifier" => crate::directory::identifiers::parse_filter(&v).map(|id| {
            f.identifier = Some(id);
        }),
        _ => return Ok(read_code_filter(f, k, v)),
    }))
}

/// Reads a filter by code (region, country, focus area, pillar, language) into `f`; `None`
/// when `k` is none of them. Repeated focus areas are one.
fn read_code_filter(f: &mut Filters, k: &str, v: String) -> Option<Read> {
    let unknown = |msg: String| Err(FieldError::new(k, "unknown_code", msg));
    let one_of = |list: &[&str]| format!("Use one of: {}.", list.join(", "));
    Some(match k {
        "region" if codes::is_region(&v) => {
            f.region = Some(v);
            Ok(())
        }
        "region" => unknown(one_of(codes::REGIONS)),
        "country" if codes::is_country(&v) => {
            f.country = Some(v);
            Ok(())
        }
        "country" => unknown("Use an ISO 3166-1 alpha-2 code such as GB.".into()),
        "focus_area" if codes::PRIORITY_AREAS.contains(&v.as_str()) => {
            if !f.focus_areas.contains(&v) {
                f.focus_areas.push(v);
            }
            Ok(())
        }
        "focus_area" => unknown(one_of(codes::PRIORITY_AREAS)),
        "pillar" if codes::PILLARS.contains(&v.as_str()) => {
            f.pillar = Some(v);
            Ok(())
        }
        "pillar" => unknown(one_of(codes::PILLARS)),
        "language" if codes::is_language(&v) => {
            f.language = Some(v);
            Ok(())
        }
        "language" => unknown("Use an ISO 639-1 code such as en.".into()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_staff_only_parameters_are_refused() {
        let e = parse_query("colour=red", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Validation(v) if v[0].field == "colour"));
        let e =
            parse_query("membership_status=active", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Forbidden(_)));
        let q = parse_query(
            "focus_area=women_drug_policy&focus_area=civil_society_space&sort=-name",
            &Viewer::Public,
            Endpoint::List,
        )
        .unwrap();
        assert_eq!(q.filters.focus_areas.len(), 2);
        assert!(q.desc);
        let e = parse_query("limit=101", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Validation(v) if v[0].field == "limit"));
        let e = parse_query("pillar=x", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Validation(v) if v[0].field == "pillar"));
    }

    #[test]
    fn relevance_is_the_default_with_words_and_name_without() {
        let q = parse_query("q=bogotá", &Viewer::Public, Endpoint::List).unwrap();
        assert_eq!(q.sort, Sort::Relevance);
        let q = parse_query("q=%20%2C", &Viewer::Public, Endpoint::List).unwrap();
        assert_eq!(q.sort, Sort::Name);
        assert!(q.filters.terms().is_empty());
    }

    #[test]
    fn the_fingerprint_follows_filters_and_sort_but_not_spelling() {
        let fp = |s: &str| {
            parse_query(s, &Viewer::Public, Endpoint::List)
                .unwrap()
                .fingerprint()
        };
        assert_eq!(fp("q=Bogotá&region=africa"), fp("region=africa&q=bogota"));
        assert_ne!(fp("region=africa"), fp("region=europe"));
        assert_ne!(fp("region=africa"), fp("region=africa&sort=-name"));
        assert_eq!(
            fp("focus_area=women_drug_policy&focus_area=civil_society_space"),
            fp("focus_area=civil_society_space&focus_area=women_drug_policy")
        );
    }
}
