//! Fixed code lists of the domain: ISO 3166-1 alpha-2 countries, ISO 639-1 languages,
//! regions, priority areas, strategic pillars, and the membership standings (one enum for the
//! column that the directory writes and the caller checks read).

crate::text_enum! {
    /// The standing of a member organisation.
    pub enum MembershipStatus {
        /// Applied; becomes active when an admin approves the application.
        Applicant = "applicant",
        /// A member in good standing.
        Active = "active",
        /// The period ended; still a member while it may renew.
        Grace = "grace",
        /// The grace period passed without renewal.
        Lapsed = "lapsed",
        /// Suspended by the secretariat.
        Suspended = "suspended",
        /// Left the network, or was removed.
        Withdrawn = "withdrawn",
    }
}

/// ISO 3166-1 alpha-2 codes (officially assigned).
pub const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ISO 639-1 language codes.
pub const LANGUAGES: &str = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu \
fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky \
la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw \
sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// Regions of the network.
pub const REGIONS: &[&str] = &[
    "africa",
    "asia",
    "europe",
    "latin_america_caribbean",
    "middle_east_north_africa",
    "north_america",
    "oceania",
    "global",
];

/// The five priority areas.
pub const PRIORITY_AREAS: &[&str] = &[
    "decriminalisation_justice_reform",
    "women_drug_policy",
    "support_dont_punish",
    "cross_un_common_position",
    "civil_society_space",
];

/// The five strategic pillars.
pub const PILLARS: &[&str] = &[
    "networking_communications",
    "building_evidence",
    "international_advocacy",
    "regional_national_advocacy",
    "capacity_strengthening",
];

/// True for an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split_whitespace().any(|c| c == code)
}

/// True for an ISO 639-1 code (lower case).
pub fn is_language(code: &str) -> bool {
    code.len() == 2 && LANGUAGES.split_whitespace().any(|c| c == code)
}

/// True for a region of the list.
pub fn is_region(code: &str) -> bool {
    REGIONS.contains(&code)
}

/// The wire (snake_case) name of a serde enum value, as stored in the database.
pub fn wire_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Schemas of the code lists for the OpenAPI document (`#[param(schema_with = …)]` and
/// `#[schema(schema_with = …)]`), built from the lists the checks use, so they cannot drift.
pub mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{Array, Object};

    /// `schema` that also admits `null` (a merge-patch field left as it is).
    pub fn or_null(mut schema: Object) -> Object {
        schema.schema_type = SchemaType::Array(vec![Type::String, Type::Null]);
        if let Some(values) = schema.enum_values.as_mut() {
            values.push(serde_json::Value::Null);
        }
        schema
    }

    /// A language the service speaks (`crate::i18n::LANGUAGES`), or null to leave it.
    pub fn spoken_language() -> Object {
        or_null(one_of(crate::i18n::Lang::codes()))
    }

    /// A string schema listing `values`.
    pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    }

    /// An array of distinct values of `item`.
    fn array_of(item: Object) -> Array {
        ArrayBuilder::new().items(item).build()
    }

    pub fn pillar() -> Object {
        one_of(super::PILLARS.iter().copied())
    }

    pub fn priority_area() -> Object {
        one_of(super::PRIORITY_AREAS.iter().copied())
    }

    pub fn priority_areas() -> Array {
        array_of(priority_area())
    }

    pub fn pillar_or_null() -> Object {
        or_null(pillar())
    }

    pub fn priority_areas_or_null() -> Array {
        let mut a = priority_areas();
        a.schema_type = SchemaType::Array(vec![Type::Array, Type::Null]);
        a
    }

    pub fn region() -> Object {
        one_of(super::REGIONS.iter().copied())
    }

    pub fn country() -> Object {
        one_of(super::COUNTRIES.split_whitespace())
    }

    pub fn language() -> Object {
        one_of(super::LANGUAGES.split_whitespace())
    }

    /// The ISO 4217 codes `money::currency` accepts.
    pub fn currency() -> Object {
        one_of(crate::money::CURRENCIES.iter().map(|(c, _)| *c))
    }

    pub fn currency_or_null() -> Object {
        or_null(currency())
    }

    /// An exchange rate as `money::parse_rate` reads it.
    pub fn rate() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(crate::money::rate_pattern()))
            .examples(["1.085300"])
            .build()
    }

    pub fn rate_or_null() -> Object {
        or_null(rate())
    }

    /// The org-id.guide schemes in any case, as a regular expression alternation.
    fn schemes() -> String {
        let schemes: Vec<String> = crate::kit::org_id::SCHEMES
            .iter()
            .map(|(code, _)| {
                code.chars()
                    .map(|c| match (c.to_ascii_uppercase(), c.to_ascii_lowercase()) {
                        (u, l) if u != l => format!("[{u}{l}]"),
                        _ => c.to_string(),
                    })
                    .collect()
            })
            .collect();
        schemes.join("|")
    }

    /// A full org-id identifier: a known scheme (in any case), `-`, and 1–100 characters of
    /// `A-Za-z0-9-._/`, as `directory::identifiers::parse_filter` reads it.
    pub fn org_identifier() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^({})-[A-Za-z0-9._/-]{{1,100}}$", schemes())))
            .build()
    }

    /// An org-id.guide scheme code (in any case, as `identifiers::check` reads it).
    pub fn org_scheme() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^({})$", schemes())))
            .examples(["GB-CHC"])
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lists_know_common_codes_and_refuse_others() {
        assert!(is_country("GB") && is_country("MX") && !is_country("XX") && !is_country("gb"));
        assert!(is_language("en") && is_language("pt") && !is_language("xx"));
        assert_eq!(COUNTRIES.split_whitespace().count(), 249);
    }
}
