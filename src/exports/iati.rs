//! The IATI 2.03 activity file: one `iati-activity` per published grant, reported by the
//! network. Transactions: an outgoing commitment (2) at approval for the grant amount, a
//! disbursement (3) at each payment, and a reversed payment as a negative disbursement on the
//! day it was reversed, so the file adds up to what the API says was approved and paid.
//! A hidden grantee is neither named nor identified nor located beyond its region.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::data::{OpenDataSet, Party, Published};
use super::{PRIORITY_AREA_TITLES, title_of};
use crate::config::Config;
use crate::grants::grant::GrantStatus;
use crate::grants::tranche::TrancheStatus;
use crate::kit::rfc3339;
use crate::money;

/// The IATI standard version the file follows.
pub const VERSION: &str = "2.03";

/// OECD DAC recipient-region code (vocabulary 1) for each region, used when no country may be
/// named or the grant is not for one country.
pub const DAC_REGIONS: &[(&str, &str)] = &[
    ("africa", "298"),
    ("asia", "798"),
    ("europe", "89"),
    ("latin_america_caribbean", "498"),
    ("middle_east_north_africa", "589"),
    ("north_america", "498"),
    ("oceania", "889"),
    ("global", "998"),
];

/// Splits `start..=end` into periods of at most a year and `amount` over them by days.
pub fn yearly_budgets(
    start: NaiveDate,
    end: NaiveDate,
    amount: i64,
) -> Vec<(NaiveDate, NaiveDate, i64)> {
    let mut periods = Vec::new();
    let mut from = start;
    while from <= end {
        let to = from
            .checked_add_months(chrono::Months::new(12))
            .and_then(|d| d.pred_opt())
            .map_or(end, |d| d.min(end));
        periods.push((from, to));
        match to.succ_opt() {
            Some(next) => from = next,
            None => break,
        }
    }
    if periods.is_empty() {
        return vec![(start, end, amount)];
    }
    let total_days = (end - start).num_days() + 1;
    let mut left = amount;
    let last = periods.len() - 1;
    periods
        .into_iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let share = if i == last {
                left
            } else {
                let days = (to - from).num_days() + 1;
                (i128::from(amount) * i128::from(days) / i128::from(total_days.max(1))) as i64
            };
            left -= share;
            (from, to, share)
        })
        .collect()
}

/// Escapes text for XML content and attribute values (a narrative keeps its lines).
pub fn esc(s: &str) -> String {
    crate::xml_text::escape(s, crate::xml_text::Controls::KeepLines)
}

/// The activity identifier of a grant: `<reporting-org ref>-<grant reference>`.
pub fn activity_id(config: &Config, reference: &str) -> String {
    format!("{}-{reference}", config.open_data.network_id())
}

/// IATI ActivityStatus of a grant status.
fn activity_status(status: GrantStatus) -> &'static str {
    match status {
        GrantStatus::Closed => "4",
        _ => "2",
    }
}

/// Splits 100 over `weights` with the largest-remainder method (sums to exactly 100).
fn percentages(weights: &[u32]) -> Vec<u32> {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<u32> = weights.iter().map(|w| w * 100 / total).collect();
    let mut rest = 100 - out.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((weights[i] * 100) % total));
    for i in order {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

fn org(out: &mut String, tag: &str, attrs: &str, p: &Party, config: &Config) {
    let r = p
        .iati_ref(&config.open_data)
        .map(|r| format!(" ref=\"{}\"", esc(&r)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "   <{tag}{r}{attrs}>\n    <narrative>{}</narrative>\n   </{tag}>\n",
        esc(&p.name)
    );
}

fn value(out: &mut String, minor: i64, currency: &str, date: NaiveDate) {
    let _ = writeln!(
        out,
        "   <value currency=\"{}\" value-date=\"{date}\">{}</value>",
        esc(currency),
        money::format(minor, currency)
    );
}

#[allow(clippy::too_many_arguments)]
fn transaction(
    out: &mut String,
    config: &Config,
    p: &Published,
    reference: &str,
    kind: &str,
    date: NaiveDate,
    minor: i64,
    text: &str,
) {
    let g = &p.grant;
    let network = network_party(config);
    let _ = write!(
        out,
        "  <transaction ref=\"{}\">\n   <transaction-type code=\"{kind}\"/>\n   <transaction-date iso-date=\"{date}\"/>\n",
        esc(reference)
    );
    value(out, minor, &g.currency, date);
    let _ = write!(
        out,
        "   <description>\n    <narrative>{}</narrative>\n   </description>\n",
        esc(text)
    );
    org(out, "provider-org", "", &network, config);
    org(out, "receiver-org", "", &p.grantee, config);
    out.push_str("  </transaction>\n");
}

fn network_party(config: &Config) -> Party {
    Party {
        hidden: false,
        org_id: Some(config.open_data.network_id()),
        name: config.open_data.org_name.clone(),
        country: None,
        region: "global".into(),
        internal_id: None,
        all_ids: Vec::new(),
    }
}

fn activity(out: &mut String, p: &Published, config: &Config) {
    let id = activity_id(config, &p.grant.reference);
    activity_header(out, p, config, &id);
    participants(out, p, config);
    status_and_dates(out, p);
    recipient(out, p);
    sectors(out, p, config);
    budgets(out, p);
    planned_disbursements(out, p);
    transactions(out, p, config, &id);
    if let Some(a) = p
        .publication
        .as_ref()
        .and_then(|x| x.donor_activity_id.as_deref())
        .filter(|_| !p.donor.hidden)
    {
        // Type 1: the donor's activity is the parent of this grant.
        let _ = writeln!(out, "  <related-activity ref=\"{}\" type=\"1\"/>", esc(a));
    }
    results(out, p);
    out.push_str(" </iati-activity>\n");
}

/// The activity's identifier, reporting organisation, title and description.
fn activity_header(out: &mut String, p: &Published, config: &Config, id: &str) {
    let g = &p.grant;
    let open = &config.open_data;
    let (title, description) = crate::grants::access::published_text(g, p.grantee.hidden);
    let _ = write!(
        out,
        " <iati-activity last-updated-datetime=\"{}\" xml:lang=\"en\" default-currency=\"{}\" hierarchy=\"1\">\n  <iati-identifier>{}</iati-identifier>\n",
        rfc3339(g.updated_at),
        esc(&g.currency),
        esc(id)
    );
    let _ = write!(
        out,
        "  <reporting-org ref=\"{}\" type=\"{}\">\n   <narrative>{}</narrative>\n  </reporting-org>\n",
        esc(&open.network_id()),
        esc(&open.org_type),
        esc(&open.org_name)
    );
    let _ = write!(
        out,
        "  <title>\n   <narrative>{}</narrative>\n  </title>\n  <description type=\"1\">\n   <narrative>{}</narrative>\n  </description>\n",
        esc(&title),
        esc(&description)
    );
}

/// Participants: the donor funds, the network extends, the grantee implements.
fn participants(out: &mut String, p: &Published, config: &Config) {
    let donor_activity = p
        .publication
        .as_ref()
        .and_then(|x| x.donor_activity_id.as_deref())
        .filter(|_| !p.donor.hidden)
        .map(|a| format!(" activity-id=\"{}\"", esc(a)))
        .unwrap_or_default();
    org(
        out,
        "participating-org",
        &format!(" role=\"1\"{donor_activity}"),
        &p.donor,
        config,
    );
    org(
        out,
        "participating-org",
        " role=\"3\"",
        &network_party(config),
        config,
    );
    org(out, "participating-org", " role=\"4\"", &p.grantee, config);
}

/// The activity's status and its planned and actual start and end.
fn status_and_dates(out: &mut String, p: &Published) {
    let g = &p.grant;
    let _ = writeln!(
        out,
        "  <activity-status code=\"{}\"/>",
        activity_status(g.status)
    );
    let _ = writeln!(
        out,
        "  <activity-date type=\"1\" iso-date=\"{}\"/>",
        g.planned_start
    );
    if let Some(t) = p.activated_at {
        let _ = writeln!(
            out,
            "  <activity-date type=\"2\" iso-date=\"{}\"/>",
            t.date()
        );
    }
    let _ = writeln!(
        out,
        "  <activity-date type=\"3\" iso-date=\"{}\"/>",
        g.planned_end
    );
    if let Some(t) = p.closed_at {
        let _ = writeln!(
            out,
            "  <activity-date type=\"4\" iso-date=\"{}\"/>",
            t.date()
        );
    }
}

/// The grantee's country, or its region as a DAC region code (998 when global).
fn recipient(out: &mut String, p: &Published) {
    match (&p.grantee.country, p.grantee.region.as_str()) {
        (Some(c), r) if r != "global" => {
            let _ = writeln!(
                out,
                "  <recipient-country code=\"{}\" percentage=\"100\"/>",
                esc(c)
            );
        }
        (_, r) => {
            let code = DAC_REGIONS
                .iter()
                .find(|(x, _)| *x == r)
                .map(|(_, c)| *c)
                .unwrap_or("998");
            let _ = writeln!(
                out,
                "  <recipient-region code=\"{code}\" vocabulary=\"1\" percentage=\"100\"/>"
            );
        }
    }
}

/// Sectors: DAC purpose codes from the priority areas (equal shares), and the areas
/// themselves in the network's own vocabulary (99).
fn sectors(out: &mut String, p: &Published, config: &Config) {
    let g = &p.grant;
    let open = &config.open_data;
    let areas = g.priority_area_list();
    let mut dac: Vec<(String, u32)> = Vec::new();
    for a in &areas {
        if let Some(code) = open.dac_code(a) {
            match dac.iter_mut().find(|(c, _)| c == code) {
                Some((_, w)) => *w += 1,
                None => dac.push((code.to_string(), 1)),
            }
        }
    }
    let pct = percentages(&dac.iter().map(|(_, w)| *w).collect::<Vec<_>>());
    for ((code, _), pc) in dac.iter().zip(pct) {
        let _ = writeln!(
            out,
            "  <sector vocabulary=\"1\" code=\"{code}\" percentage=\"{pc}\"/>"
        );
    }
    let pct = percentages(&vec![1; areas.len()]);
    for (a, pc) in areas.iter().zip(pct) {
        let _ = write!(
            out,
            "  <sector vocabulary=\"99\" code=\"{}\" percentage=\"{pc}\">\n   <narrative>{}</narrative>\n  </sector>\n",
            esc(a),
            esc(&title_of(PRIORITY_AREA_TITLES, a))
        );
    }
}

/// IATI asks for budgets of at most a year: one per year of the planned period, the amount
/// shared by days (the last one takes the rounding), so they add up to the grant amount.
fn budgets(out: &mut String, p: &Published) {
    let g = &p.grant;
    for (start, end, minor) in yearly_budgets(g.planned_start, g.planned_end, g.amount) {
        let _ = writeln!(
            out,
            "  <budget type=\"1\" status=\"2\">\n   <period-start iso-date=\"{start}\"/>\n   <period-end iso-date=\"{end}\"/>"
        );
        value(out, minor, &g.currency, start);
        out.push_str("  </budget>\n");
    }
}

/// What the network plans to pay the grantee: the amount over the yearly periods of the plan,
/// as approved (type 1, original); a closed grant plans nothing more.
fn planned_disbursements(out: &mut String, p: &Published) {
    let g = &p.grant;
    if g.status == GrantStatus::Closed {
        return;
    }
    for (start, end, minor) in yearly_budgets(g.planned_start, g.planned_end, g.amount) {
        let _ = writeln!(
            out,
            "  <planned-disbursement type=\"1\">\n   <period-start iso-date=\"{start}\"/>\n   <period-end iso-date=\"{end}\"/>"
        );
        value(out, minor, &g.currency, start);
        out.push_str("  </planned-disbursement>\n");
    }
}

/// The grant's indicators as one output result (type 1): each with its baseline in the start
/// year, and its target and the latest accepted actual over the planned period.
fn results(out: &mut String, p: &Published) {
    if p.indicators.is_empty() {
        return;
    }
    let g = &p.grant;
    out.push_str("  <result type=\"1\" aggregation-status=\"0\">\n   <title>\n    <narrative>Results the grant aims at</narrative>\n   </title>\n");
    for (i, actual) in &p.indicators {
        let area = title_of(PRIORITY_AREA_TITLES, &i.priority_area);
        let _ = write!(
            out,
            "   <indicator measure=\"1\" ascending=\"1\">\n    <title>\n     <narrative>{} ({})</narrative>\n    </title>\n    <description>\n     <narrative>{}</narrative>\n    </description>\n    <baseline year=\"{}\" iso-date=\"{}\" value=\"{}\"/>\n    <period>\n     <period-start iso-date=\"{}\"/>\n     <period-end iso-date=\"{}\"/>\n     <target value=\"{}\"/>\n",
            esc(&i.name),
            esc(&i.unit),
            esc(&area),
            g.planned_start.format("%Y"),
            g.planned_start,
            esc(&i.baseline),
            g.planned_start,
            g.planned_end,
            esc(&i.target),
        );
        if let Some(a) = actual {
            let _ = writeln!(out, "     <actual value=\"{}\"/>", esc(a));
        }
        out.push_str("    </period>\n   </indicator>\n");
    }
    out.push_str("  </result>\n");
}

/// The commitment, each payment and each reversal of one.
fn transactions(out: &mut String, p: &Published, config: &Config, id: &str) {
    let g = &p.grant;
    transaction(
        out,
        config,
        p,
        &format!("{id}-commitment"),
        "2",
        p.award_date(),
        g.amount,
        "Grant approved",
    );
    for d in &p.payments {
        let Some(paid_on) = d.paid_on else { continue };
        transaction(
            out,
            config,
            p,
            &format!("{id}-payment-{}", super::data::payment_ref(d)),
            "3",
            paid_on,
            d.amount,
            "Payment",
        );
        if let (true, Some(at)) = (d.status == TrancheStatus::Reversed, d.reversed_at) {
            transaction(
                out,
                config,
                p,
                &format!("{id}-reversal-{}", super::data::payment_ref(d)),
                "3",
                at.date(),
                -d.amount,
                "Reversal of a payment",
            );
        }
    }
}

/// The activity file. Its generated-datetime is the latest change in the data, so the same
/// data gives the same bytes (and ETag).
pub fn activities(set: &OpenDataSet, config: &Config) -> String {
    let generated = set.modified.unwrap_or_else(|| config.clock.naive());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"{VERSION}\" generated-datetime=\"{}\">\n",
        rfc3339(generated)
    );
    for p in &set.grants {
        activity(&mut out, p, config);
    }
    out.push_str("</iati-activities>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_always_add_up_to_100() {
        assert_eq!(percentages(&[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(percentages(&[2, 1]), vec![67, 33]);
        assert_eq!(percentages(&[1]), vec![100]);
    }

    #[test]
    fn budgets_are_yearly_and_add_up() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let one = yearly_budgets(d("2026-02-01"), d("2026-12-31"), 100_000);
        assert_eq!(one, vec![(d("2026-02-01"), d("2026-12-31"), 100_000)]);
        let two = yearly_budgets(d("2026-07-01"), d("2028-03-31"), 100_001);
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].0, d("2026-07-01"));
        assert_eq!(two[0].1, d("2027-06-30"));
        assert_eq!(
            two[1],
            (d("2027-07-01"), d("2028-03-31"), 100_001 - two[0].2)
        );
        assert_eq!(two.iter().map(|b| b.2).sum::<i64>(), 100_001);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
