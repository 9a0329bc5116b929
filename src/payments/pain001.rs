//! The bank files of an approved payment run: an ISO 20022 `pain.001.001.09` credit-transfer
//! initiation (valid against `standards/iso20022/pain.001.001.09.xsd`) and a CSV of the same
//! lines. Both carry account numbers in full, so only finance downloads them; the number of
//! transactions and the control sum are counted from the lines written.

use chrono::NaiveDateTime;

use super::accounts::Scheme;
use super::runs::{self, Detailed, RunRow};
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::db::DbConn;
use crate::error::{ApiError, ConflictCode};
use crate::money;

/// The namespace of the message.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The account the run is paid from, as configured.
pub struct Debtor<'a> {
    /// The network's name.
    pub name: &'a str,
    /// Its account: an IBAN, or another account number.
    pub account: &'a str,
    /// Its bank's BIC, when known.
    pub bic: Option<&'a str>,
}

/// Escapes text for an XML element or attribute (on one line).
fn esc(s: &str) -> String {
    crate::xml_text::escape(s, crate::xml_text::Controls::Space)
}

/// At most `n` characters (the schema's MaxNText).
fn cut(s: &str, n: usize) -> String {
    esc(&s.chars().take(n).collect::<String>())
}

/// `<Id>` of an account: `<IBAN>` when it is one, else `<Othr><Id>`.
fn account_id(number: &str, is_iban: bool) -> String {
    if is_iban {
        format!("<Id><IBAN>{}</IBAN></Id>", esc(number))
    } else {
        format!("<Id><Othr><Id>{}</Id></Othr></Id>", cut(number, 34))
    }
}

fn agent(bic: Option<&str>, name: Option<&str>, country: Option<&str>) -> String {
    let mut s = String::from("<FinInstnId>");
    match bic {
        Some(b) => s.push_str(&format!("<BICFI>{}</BICFI>", esc(b))),
        None => s.push_str("<Othr><Id>NOTPROVIDED</Id></Othr>"),
    }
    if bic.is_some() {
        if let Some(n) = name {
            s.push_str(&format!("<Nm>{}</Nm>", cut(n, 140)));
        }
        if let Some(c) = country {
            s.push_str(&format!("<PstlAdr><Ctry>{}</Ctry></PstlAdr>", esc(c)));
        }
    }
    s.push_str("</FinInstnId>");
    s
}

fn transaction(run: &RunRow, d: &Detailed, number: &str) -> String {
    let a = &d.account;
    format!(
        "<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>\
         <Amt><InstdAmt Ccy=\"{ccy}\">{amt}</InstdAmt></Amt>\
         <CdtrAgt>{agent}</CdtrAgt><Cdtr><Nm>{holder}</Nm></Cdtr>\
         <CdtrAcct>{acct}</CdtrAcct><RmtInf><Ustrd>{rmt}</Ustrd></RmtInf></CdtTrfTxInf>",
        e2e = cut(&d.line.reference, 35),
        ccy = esc(&run.currency),
        amt = money::format(d.line.amount, &run.currency),
        agent = agent(
            Some(&a.bic),
            a.bank_name.as_deref(),
            a.bank_country.as_deref()
        ),
        holder = cut(&a.holder_name, 140),
        acct = account_id(number, a.scheme == Scheme::Iban),
        rmt = cut(&d.line.reference, 140),
    )
}

/// The `pain.001.001.09` document of `run` with its `lines`, created at `now`.
pub fn xml(
    run: &RunRow,
    lines: &[Detailed],
    debtor: &Debtor<'_>,
    keyring: &KeyRing,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let count = lines.len();
    let sum = lines.iter().map(|d| d.line.amount).sum::<i64>();
    let sum = money::format(sum, &run.currency);
    let msg_id = run.id.replace('-', "");
    let mut txs = String::new();
    for d in lines {
        txs.push_str(&transaction(run, d, &d.account.number(keyring)?));
        txs.push('\n');
    }
    let debtor_is_iban = debtor.account.parse::<iban::Iban>().is_ok();
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"{NAMESPACE}\"><CstmrCdtTrfInitn>\n\
         <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{created}</CreDtTm><NbOfTxs>{count}</NbOfTxs>\
         <CtrlSum>{sum}</CtrlSum><InitgPty><Nm>{name}</Nm></InitgPty></GrpHdr>\n\
         <PmtInf><PmtInfId>{msg_id}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{count}</NbOfTxs>\
         <CtrlSum>{sum}</CtrlSum><ReqdExctnDt><Dt>{value_date}</Dt></ReqdExctnDt>\
         <Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct>{debtor_acct}</DbtrAcct><DbtrAgt>{debtor_agent}</DbtrAgt>\n\
         {txs}</PmtInf>\n</CstmrCdtTrfInitn></Document>\n",
        created = now.format("%Y-%m-%dT%H:%M:%S"),
        name = cut(debtor.name, 140),
        value_date = run.value_date,
        debtor_acct = account_id(&debtor.account.replace(' ', ""), debtor_is_iban),
        debtor_agent = agent(debtor.bic, None, None),
    ))
}

/// The columns of the CSV.
pub const CSV_HEADER: [&str; 11] = [
    "line",
    "reference",
    "payee_organisation_id",
    "holder_name",
    "account_number",
    "bic",
    "bank_name",
    "bank_country",
    "currency",
    "amount",
    "status",
];

/// The same lines as CSV, one row per line, with a header; cells a spreadsheet would read
/// as formulas are defused (a payee's name is written by whoever proposed the account).
pub fn csv(run: &RunRow, lines: &[Detailed], keyring: &KeyRing) -> Result<String, ApiError> {
    let mut rows = vec![CSV_HEADER.map(str::to_string).to_vec()];
    for d in lines {
        let a = &d.account;
        rows.push(vec![
            d.line.line_no.to_string(),
            d.line.reference.clone(),
            a.organisation_id.clone(),
            a.holder_name.clone(),
            a.number(keyring)?,
            a.bic.clone(),
            a.bank_name.clone().unwrap_or_default(),
            a.bank_country.clone().unwrap_or_default(),
            run.currency.clone(),
            money::format(d.line.amount, &run.currency),
            d.line.status.as_str().to_string(),
        ]);
    }
    crate::csv_text::write(crate::csv_text::LineEnd::Crlf, rows)
}

/// Loads an exportable run: approved or completed, with its lines not returned.
fn exportable(conn: &mut DbConn, id: &str) -> Result<(RunRow, Vec<Detailed>), ApiError> {
    let run = runs::by_id(conn, id)?;
    if run.status == runs::RunStatus::Prepared {
        return Err(ApiError::Conflict {
            code: ConflictCode::InvalidTransition,
            detail: "The run is prepared; its bank file is exported once a second finance officer approves it.".into(),
        });
    }
    let lines = runs::detailed(conn, id)?
        .into_iter()
        .filter(|d| d.line.status != runs::LineStatus::Returned)
        .collect();
    Ok((run, lines))
}

/// The `pain.001.001.09` file of run `id` (approved or completed), paid from the configured
/// debtor account (409 `debtor_account_missing` without one).
pub fn bank_file(
    conn: &mut DbConn,
    config: &Config,
    keyring: &KeyRing,
    id: &str,
) -> Result<String, ApiError> {
    let (run, lines) = exportable(conn, id)?;
    let account = config
        .payment_debtor_account
        .as_deref()
        .ok_or(ApiError::Conflict {
            code: ConflictCode::DebtorAccountMissing,
            detail:
                "Set PAYMENT_DEBTOR_ACCOUNT (the account runs are paid from) to export bank files."
                    .into(),
        })?;
    let debtor = Debtor {
        name: &config.network_name,
        account,
        bic: config.payment_debtor_bic.as_deref(),
    };
    xml(&run, &lines, &debtor, keyring, config.clock.naive())
}

/// The CSV of run `id`'s lines (approved or completed).
pub fn lines_csv(conn: &mut DbConn, keyring: &KeyRing, id: &str) -> Result<String, ApiError> {
    let (run, lines) = exportable(conn, id)?;
    csv(&run, &lines, keyring)
}
