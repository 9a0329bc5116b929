//! The description of every operation: who may call it, what it changes and what it emails.
//! The summary stays on the handler (its doc comment); the contract appends what the
//! document itself proves (idempotency, `If-Match`, paging). A unit test and Spectral's
//! `operation-description` rule fail when an operation has none.

/// (operationId, description).
pub const DESCRIPTIONS: &[(&str, &str)] = &[
    // operations
    (
        "live",
        "Anyone. Changes nothing; answers 200 while the process runs (for liveness probes).",
    ),
    (
        "ready",
        "Anyone. Changes nothing; 503 while the database is unreachable or a migration is pending (for readiness probes).",
    ),
    (
        "metrics",
        "Anyone who can reach it (keep it off the public network). Prometheus text format; changes nothing.",
    ),
    // auth
    (
        "login",
        "Anyone. Returns an access and a refresh token. Wrong credentials, an unknown email and a throttled account all answer the same 401 after the same work; repeated failures are slowed per account and per address. Emails nothing.",
    ),
    (
        "refresh",
        "Anyone holding a refresh token. Rotates it: the old one is spent, and presenting a spent one ends the whole session (theft detection). Emails nothing.",
    ),
    (
        "logout",
        "Anyone holding a refresh token. Ends that session; its access tokens stop working at once. Emails nothing.",
    ),
    (
        "token",
        "Partner apps (OAuth2 client credentials). Returns a short-lived access token with the scopes granted to the app. Emails nothing.",
    ),
    (
        "password_reset",
        "Anyone. Emails a one-time reset link (valid 30 minutes) if an active account has this address; answers 202 either way, so it reveals nothing. Rate-limited like login.",
    ),
    (
        "password_reset_confirm",
        "Anyone holding an emailed reset token. The token is checked before any password work; on success the password changes, every session ends, a lockout is lifted and the owner is emailed that the password changed.",
    ),
    (
        "accept_invitation",
        "Anyone holding an emailed invitation token. Sets the password and display name, activates the account and returns a token pair. Rate-limited like login.",
    ),
    // account
    (
        "me",
        "Any signed-in user. The caller's own account; changes nothing.",
    ),
    (
        "update_me",
        "Any signed-in user. Changes the caller's display name; audited. Emails nothing.",
    ),
    (
        "change_password",
        "Any signed-in user, with the current password (throttled like login). Every other session ends; the owner is emailed.",
    ),
    // users
    (
        "list_users",
        "Admins. Users with role and status, cursor-paged. Changes nothing.",
    ),
    (
        "create_user",
        "Admins. Creates an invited user with a role (and an organisation for members) and emails the invitation link; audited.",
    ),
    (
        "get_user",
        "Admins see the whole account; grant officers and finance see another staff user's id, display name and role only (a member user is 404 to them). Changes nothing.",
    ),
    (
        "update_user",
        "Admins. Changes role, status or organisation; disabling ends every session at once. Audited; emails nothing.",
    ),
    (
        "resend_invitation",
        "Admins. Issues a fresh invitation token (the old one stops working) and emails it again; audited.",
    ),
    // api clients
    (
        "list_clients",
        "Admins. Partner apps with their scopes; secrets are never shown. Changes nothing.",
    ),
    (
        "create_client",
        "Admins. Registers a partner app with scopes; its secret is in this answer only. Audited.",
    ),
    (
        "get_client",
        "Admins. One partner app with its scopes and whether it is revoked; the secret is never shown again. Changes nothing.",
    ),
    (
        "revoke_client",
        "Admins. Revokes a partner app: its tokens stop working at once. Audited.",
    ),
    // directory
    (
        "list_organisations",
        "Anyone; what each caller sees follows the directory's one visibility rule. Changes nothing.",
    ),
    (
        "create_organisation",
        "Admins. Creates an organisation (a partner or a member); audited. Emails nothing.",
    ),
    (
        "organisation_facets",
        "Anyone; counted over what the caller may see, with the list's filters. Changes nothing.",
    ),
    (
        "export_organisations",
        "Anyone; the list's visibility and filters as CSV (formula injection defused). Changes nothing.",
    ),
    (
        "get_organisation",
        "Anyone; the field groups the caller may see. A hidden organisation is 404 to the public and to partner apps. Changes nothing.",
    ),
    (
        "update_organisation",
        "Admins, or member users of that organisation in good standing. Changes the profile (JSON merge patch); audited, and partner apps' webhooks hear of public changes.",
    ),
    (
        "organisation_history",
        "Admins and the organisation's own members. The audit trail, newest first. Changes nothing.",
    ),
    (
        "change_membership",
        "Admins. Suspends, reinstates, withdraws or renews a membership; audited; the organisation's members and the admins are emailed, and an open renewal request is closed.",
    ),
    (
        "request_renewal",
        "Members of that organisation. Records one open renewal request and emails every active admin; an admin's membership decision closes it. Audited.",
    ),
    // membership applications
    (
        "list_applications",
        "Admins. Applications with their status, oldest first. Changes nothing.",
    ),
    (
        "submit_application",
        "Anyone, without an account. Records the application; the applicant gets a confirmation (with no applicant text beyond their name) and every active admin a notice (applicant text never in a subject).",
    ),
    (
        "get_application",
        "Admins. One application. Changes nothing.",
    ),
    (
        "review_application",
        "Admins. Moves the application to under review; audited; the applicant is emailed.",
    ),
    (
        "approve_application",
        "Admins. Creates the member organisation and invites its contact as the first member user (emailed); audited.",
    ),
    (
        "reject_application",
        "Admins, with a reason. Audited; the applicant is emailed the reason.",
    ),
    // funds
    (
        "list_funds",
        "Staff (admins, grant officers, finance). Funds with their counters. Changes nothing.",
    ),
    (
        "create_fund",
        "Admins and grant officers. Records money received from a donor; audited. Emails nothing.",
    ),
    (
        "get_fund",
        "Staff. A fund with what is reserved, awarded, paid and remaining. Changes nothing.",
    ),
    (
        "update_fund",
        "Admins and grant officers. Changes a fund; its amount may never fall below what is reserved. Audited.",
    ),
    (
        "list_fx_rates",
        "Staff. The reference rates against the base currency. Changes nothing.",
    ),
    ("get_fx_rate", "Staff. One reference rate. Changes nothing."),
    (
        "put_fx_rate",
        "Finance officers and admins. Sets a reference rate; grants' stored rates must lie within the configured band around it. Within FX_RATE_CHANGE_BAND_PERCENT of the confirmed rate it applies at once and emails grant officers and finance; otherwise (and for a currency's first rate) it waits for a second person and emails finance and admins. Audited.",
    ),
    (
        "confirm_fx_rate",
        "A finance officer or admin other than the one who set it. Applies the rate that waits, named as read; emails grant officers and finance. Audited.",
    ),
    (
        "fx_rate_history",
        "Staff. Every rate set for a currency, newest first, with who set and who confirmed it. Changes nothing.",
    ),
    // grants
    (
        "list_grants",
        "Staff see every grant; members see their organisation's; partner apps (`grants:read`) see published grants, with the partner view only. Changes nothing.",
    ),
    (
        "create_grant",
        "Grant officers and admins. Creates a draft; audited. Emails nothing.",
    ),
    (
        "grants_csv",
        "Staff. Every grant the caller may see as CSV (formula injection defused). Changes nothing.",
    ),
    (
        "get_grant",
        "Staff, members of the grantee, and partner apps (published grants, partner view). Changes nothing.",
    ),
    (
        "update_grant",
        "Grant officers and admins. Changes a draft grant; every editor of its amount, grantee, fund or currency becomes a contributor who may not approve it. Audited.",
    ),
    (
        "submit_grant",
        "Grant officers and admins. Submits a draft for approval; the submitter becomes a contributor; the other grant officers are emailed. Audited.",
    ),
    (
        "approve_grant",
        "A grant officer or admin who contributed nothing to the grant (four eyes; 409 `self_approval` otherwise). Reserves the amount in the fund in the same UPDATE that checks the ceiling; the author and the grantee's members are emailed. Audited.",
    ),
    (
        "reject_grant",
        "Grant officers and admins, with a reason. Audited; its author is emailed.",
    ),
    (
        "activate_grant",
        "Grant officers and admins. An approved grant becomes active: tranches may then be requested. Audited; the grantee's members and the author are emailed.",
    ),
    (
        "close_grant",
        "Grant officers and admins. Closes an active grant once no approved tranche awaits payment. Audited; the grantee's members, the author and finance are emailed.",
    ),
    (
        "cancel_grant",
        "Grant officers and admins. Cancels a grant without committed tranches; an approved award returns to the fund. Audited; the grantee's members, the author and finance are emailed.",
    ),
    // tranches
    (
        "request_disbursement",
        "Grant officers, or members of the grantee in good standing. Requests a tranche; refused at once (409 `grant_exhausted`) above what is left on the grant. The other grant officers are emailed, told whether it needs one approval or two. Audited.",
    ),
    (
        "list_disbursements",
        "Staff. Tranches with filters: the approval and payment queues. Changes nothing.",
    ),
    (
        "get_disbursement",
        "Staff and members of the grantee. One tranche. Changes nothing.",
    ),
    (
        "approve_disbursement",
        "A grant officer or admin other than its requester; above the base-currency threshold (also counted over one officer's approvals in the rolling window) two different approvers. Commits the amount in the grant in the same UPDATE that checks it; when a second approval is still needed the other officers are asked by email; once fully approved finance, the requester and the grantee's members are emailed. Audited.",
    ),
    (
        "reject_disbursement",
        "Grant officers and admins, with a reason. Audited; the requester is emailed.",
    ),
    (
        "cancel_disbursement",
        "Its requester or a grant officer. Cancels a requested or approved tranche; a committed amount returns to the grant. Audited; the requester is emailed.",
    ),
    (
        "pay_disbursement",
        "Finance officers only, exactly once. Records the payment (reference and date, not more than a day ahead) and moves the amount from committed to paid in the fund and grant; the requester and the grantee's members are emailed. Audited.",
    ),
    (
        "reverse_disbursement",
        "Finance officers only, with a reason. Reverses a payment and releases its amount; audited; the grantee's members, finance and the grant officers are emailed.",
    ),
    // reports
    (
        "approve_fund_increase",
        "A finance officer or admin other than the one who asked for the raise. Applies the pending amount to the fund; audited as an event of the fund.",
    ),
    (
        "fund_history",
        "Staff (admins, grant officers, finance); anyone else gets 404. Edits and every counter move of the fund, each with before and after. Changes nothing.",
    ),
    (
        "grant_history",
        "Staff; anyone else gets 404. Every audited change of the grant with before and after. Changes nothing.",
    ),
    (
        "disbursement_history",
        "Staff; anyone else gets 404. Every audited change of the tranche with before and after. Changes nothing.",
    ),
    (
        "list_reports",
        "Staff see every report; members of a grantee see their organisation's; partner apps never see reports. Filter by status and grant. Changes nothing.",
    ),
    (
        "get_report",
        "Staff and members of the grantee; anyone else gets 404. Changes nothing.",
    ),
    (
        "report_history",
        "Staff; anyone else gets 404. Every audited change of the report with before and after. Changes nothing.",
    ),
    // documents
    (
        "upload_document",
        "Staff, and members of the organisation the object belongs to (a grant's, report's or tranche's grantee; the organisation itself); membership applications: staff only. Partner apps and anyone else get 404. The file streams through type detection (by content: PDF, OpenDocument and Office formats, CSV, plain text, PNG, JPEG; anything else is 415 naming the type found), SHA-256 and encryption into the store; over `DOCUMENT_MAX_BYTES` is 413 (from `Content-Length` before reading, or while streaming), over the organisation's quota 409. An accepted report or a finished grant is read-only (409). Audited; emails nothing.",
    ),
    (
        "list_documents",
        "Whoever may read the object (as for uploads). The newest version of each of its documents; changes nothing.",
    ),
    (
        "get_document",
        "Whoever may read the object the document belongs to; partner apps and other organisations get 404. Any version, superseded ones included; changes nothing.",
    ),
    (
        "download_document",
        "Whoever may read the object the document belongs to. Streams the decrypted bytes with the stored media type, `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and `ETag` = the SHA-256; one byte range per request (206, or 416 outside the file). Changes nothing.",
    ),
    (
        "upload_version",
        "Who may upload to the document's object. Adds a new version with the same rules as an upload; the previous one is marked superseded and stays readable. Refused (409) once the object is read-only (an accepted report). Audited; emails nothing.",
    ),
    (
        "delete_document",
        "Who may edit a draft: its grantee's members or staff for a due or returned report, staff for a draft grant, a requested or approved tranche, an open membership application, an organisation's own documents. Deletes every version; documents of an approved grant, a submitted or accepted report or a paid tranche are only superseded (409). Audited; emails nothing.",
    ),
    (
        "create_report",
        "Grant officers and admins. Asks the grantee for a report with a due date; audited; the grantee's members are emailed.",
    ),
    (
        "submit_report",
        "Members of the grantee organisation in good standing. Submits the report; audited; the grant officers are emailed.",
    ),
    (
        "accept_report",
        "Grant officers and admins. Accepts a submitted report; the grantee is emailed. Audited.",
    ),
    (
        "return_report",
        "Grant officers and admins, with a reason. Returns a submitted report for changes; the grantee is emailed. Audited.",
    ),
    // exports
    ("giving_export", "Anyone. Open data; changes nothing."),
    ("iati_export", "Anyone. Open data; changes nothing."),
    ("get_fund_publication", "Staff. Changes nothing."),
    (
        "set_fund_publication",
        "Admins and grant officers. Changes how the fund appears in the open-data exports; audited.",
    ),
    // outbox
    (
        "list_outbox",
        "Admins. Messages with their delivery state; one-time links in sent bodies are already scrubbed. Changes nothing.",
    ),
    (
        "retry_outbox",
        "Admins. Gives a dead message a fresh attempt budget; audited.",
    ),
    // webhooks
    (
        "list_webhooks",
        "Partner apps with `webhooks:manage` (their own) and admins (all). Changes nothing.",
    ),
    (
        "create_webhook",
        "Partner apps with `webhooks:manage`, or admins naming the app. Only HTTPS receivers on public addresses; a ping is queued. Audited.",
    ),
    ("get_webhook", "The owning app, or admins. Changes nothing."),
    (
        "delete_webhook",
        "The owning app, or admins. Deletes the subscription with its delivery log; audited.",
    ),
    ("update_webhook", "The owning app, or admins. Audited."),
    (
        "rotate_webhook_secret",
        "The owning app, or admins. Audited; the new secret is in this answer only.",
    ),
    (
        "list_webhook_deliveries",
        "The owning app, or admins. Changes nothing.",
    ),
    (
        "retry_webhook_delivery",
        "The owning app, or admins; the subscription must be enabled.",
    ),
    (
        "replay_webhook",
        "The owning app, or admins; the subscription must be enabled. At most a bounded number of deliveries per call, and `WEBHOOK_REPLAYS_PER_HOUR` calls per subscription in any hour (429 with `Retry-After` beyond). Each event is rendered through today's partner view: nothing hidden since is sent again.",
    ),
];

/// The description of an operation, if one is written.
pub fn of(operation_id: &str) -> Option<&'static str> {
    DESCRIPTIONS
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, d)| *d)
}
