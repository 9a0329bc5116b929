//! Fixed code lists of the domain: ISO 3166-1 alpha-2 countries, ISO 639-1 languages,
//! regions, priority areas and strategic pillars.

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
