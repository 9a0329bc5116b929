//! The one schema both backends share (see migrations/sqlite and migrations/postgres).

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient_email -> Text,
        recipient_name -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        dedupe_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        kind -> Text,
        partner_type -> Nullable<Text>,
        country -> Text,
        region -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        hidden_from_public -> Bool,
        acronym -> Nullable<Text>,
        city -> Nullable<Text>,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        focus_areas -> Text,
        pillars -> Text,
        languages -> Text,
        public_email -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        social_links -> Text,
        logo_url -> Nullable<Text>,
        founded_year -> Nullable<Integer>,
        joined_on -> Date,
        membership_status -> Nullable<Text>,
        membership_period_start -> Nullable<Date>,
        membership_period_end -> Nullable<Date>,
        visibility_profile -> Text,
        visibility_contact -> Text,
        identifiers -> Text,
    }
}

diesel::table! {
    organisation_identifiers (organisation_id, position) {
        organisation_id -> Text,
        scheme -> Text,
        identifier -> Text,
        position -> Integer,
    }
}

diesel::table! {
    fund_publications (fund_id) {
        fund_id -> Text,
        publish_incoming -> Bool,
        regrant_type -> Text,
        donor_activity_id -> Nullable<Text>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisation_slug_history (slug) {
        slug -> Text,
        organisation_id -> Text,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    organisation_tags (organisation_id, kind, code) {
        organisation_id -> Text,
        kind -> Text,
        code -> Text,
    }
}

diesel::table! {
    membership_applications (id) {
        id -> Text,
        status -> Text,
        organisation_name -> Text,
        country -> Text,
        region -> Text,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        focus_areas -> Text,
        contact_name -> Text,
        contact_email -> Text,
        motivation -> Text,
        decision_reason -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisation_primary_contacts (organisation_id) {
        organisation_id -> Text,
        user_id -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    membership_renewal_requests (id) {
        id -> Text,
        organisation_id -> Text,
        requested_by -> Text,
        status -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        decline_reason -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        status -> Text,
        password_hash -> Nullable<Text>,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        language -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        organisation_id -> Text,
        client_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    funds (id) {
        id -> Text,
        donor_organisation_id -> Text,
        title -> Text,
        reference -> Text,
        currency -> Text,
        amount -> BigInt,
        awarded -> BigInt,
        disbursed -> BigInt,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        pending_amount -> Nullable<BigInt>,
        pending_by -> Nullable<Text>,
        pending_at -> Nullable<Timestamp>,
        opening_pending -> Bool,
    }
}

diesel::table! {
    grant_contributors (id) {
        id -> Text,
        grant_id -> Text,
        user_id -> Text,
        contribution -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    fx_rates (currency) {
        currency -> Text,
        rate_micros -> BigInt,
        as_of -> Date,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fx_rate_history (id) {
        id -> Text,
        currency -> Text,
        rate_micros -> BigInt,
        as_of -> Date,
        status -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    fund_raises (id) {
        id -> Text,
        fund_id -> Text,
        increase -> BigInt,
        asked_by -> Text,
        confirmed_by -> Nullable<Text>,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    grant_counters (year) {
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        reference -> Text,
        year -> Integer,
        fund_id -> Text,
        grantee_organisation_id -> Text,
        title -> Text,
        description -> Text,
        pillar -> Text,
        priority_areas -> Text,
        currency -> Text,
        amount -> BigInt,
        fx_rate_micros -> Nullable<BigInt>,
        fx_rate_date -> Nullable<Date>,
        fund_currency -> Text,
        amount_in_fund_currency -> BigInt,
        committed -> BigInt,
        paid -> BigInt,
        planned_start -> Date,
        planned_end -> Date,
        status -> Text,
        created_by -> Text,
        submitted_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        activated_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    grant_reports (id) {
        id -> Text,
        grant_id -> Text,
        kind -> Text,
        title -> Text,
        due_on -> Date,
        status -> Text,
        summary -> Nullable<Text>,
        document_url -> Nullable<Text>,
        submitted_by -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        return_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    disbursements (id) {
        id -> Text,
        grant_id -> Text,
        amount -> BigInt,
        planned_date -> Date,
        note -> Text,
        requires_report_id -> Nullable<Text>,
        status -> Text,
        approvals_required -> Integer,
        requested_by -> Text,
        approver_1 -> Nullable<Text>,
        approved_1_at -> Nullable<Timestamp>,
        approver_2 -> Nullable<Text>,
        approved_2_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        payment_reference -> Nullable<Text>,
        paid_on -> Nullable<Date>,
        paid_by -> Nullable<Text>,
        paid_at -> Nullable<Timestamp>,
        reversal_reason -> Nullable<Text>,
        reversed_by -> Nullable<Text>,
        reversed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        bank_account_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller_id, idem_key) {
        caller_id -> Text,
        idem_key -> Text,
        method_path -> Text,
        request_hash -> Text,
        completed -> Bool,
        status_code -> Nullable<Integer>,
        location -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_throttle (key) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        api_client_id -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        consecutive_failures -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        message_id -> Text,
        event_type -> Text,
        resource_key -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    bank_accounts (id) {
        id -> Text,
        organisation_id -> Text,
        holder_name -> Text,
        currency -> Text,
        scheme -> Text,
        number_sealed -> Binary,
        number_last4 -> Text,
        bic -> Text,
        bank_name -> Nullable<Text>,
        bank_country -> Nullable<Text>,
        status -> Text,
        replaces_id -> Nullable<Text>,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        usable_from -> Nullable<Timestamp>,
        retired_by -> Nullable<Text>,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payment_runs (id) {
        id -> Text,
        currency -> Text,
        value_date -> Date,
        status -> Text,
        line_count -> Integer,
        control_sum -> BigInt,
        prepared_by -> Text,
        prepared_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        completed_by -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payment_run_lines (id) {
        id -> Text,
        run_id -> Text,
        line_no -> Integer,
        disbursement_id -> Text,
        bank_account_id -> Text,
        amount -> BigInt,
        reference -> Text,
        status -> Text,
        bank_reference -> Nullable<Text>,
        paid_on -> Nullable<Date>,
        return_reason -> Nullable<Text>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(organisation_primary_contacts -> organisations (organisation_id));
diesel::joinable!(organisation_primary_contacts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(api_clients -> organisations (organisation_id));
diesel::joinable!(organisation_tags -> organisations (organisation_id));
diesel::joinable!(organisation_slug_history -> organisations (organisation_id));
diesel::joinable!(funds -> organisations (donor_organisation_id));
diesel::joinable!(grants -> funds (fund_id));
diesel::joinable!(grants -> organisations (grantee_organisation_id));
diesel::joinable!(grant_reports -> grants (grant_id));
diesel::joinable!(disbursements -> grants (grant_id));
diesel::joinable!(organisation_identifiers -> organisations (organisation_id));
diesel::joinable!(fund_publications -> funds (fund_id));
diesel::joinable!(fund_raises -> funds (fund_id));
diesel::joinable!(grant_contributors -> grants (grant_id));
diesel::joinable!(membership_renewal_requests -> organisations (organisation_id));
diesel::joinable!(webhook_subscriptions -> api_clients (api_client_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(bank_accounts -> organisations (organisation_id));
diesel::joinable!(disbursements -> bank_accounts (bank_account_id));
diesel::joinable!(payment_run_lines -> payment_runs (run_id));
diesel::joinable!(payment_run_lines -> disbursements (disbursement_id));

diesel::table! {
    documents (id) {
        id -> Text,
        document_id -> Text,
        version -> Integer,
        parent_type -> Text,
        parent_id -> Text,
        organisation_id -> Nullable<Text>,
        kind -> Text,
        title -> Nullable<Text>,
        file_name -> Text,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        key_id -> Text,
        nonce_prefix -> Text,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    budget_lines (id) {
        id -> Text,
        grant_id -> Text,
        position -> Integer,
        category -> Text,
        description -> Text,
        amount -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    budget_revisions (id) {
        id -> Text,
        grant_id -> Text,
        status -> Text,
        reason -> Text,
        largest_share_basis_points -> BigInt,
        before_json -> Text,
        proposed_json -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
    }
}

diesel::table! {
    report_actuals (id) {
        id -> Text,
        report_id -> Text,
        budget_line_id -> Text,
        amount -> BigInt,
    }
}

diesel::table! {
    grant_indicators (id) {
        id -> Text,
        grant_id -> Text,
        position -> Integer,
        name -> Text,
        unit -> Text,
        baseline -> Text,
        target -> Text,
        pillar -> Text,
        priority_area -> Text,
    }
}

diesel::table! {
    indicator_results (id) {
        id -> Text,
        report_id -> Text,
        indicator_id -> Text,
        actual -> Text,
        note -> Text,
    }
}

diesel::joinable!(budget_lines -> grants (grant_id));
diesel::joinable!(budget_revisions -> grants (grant_id));
diesel::joinable!(report_actuals -> budget_lines (budget_line_id));
diesel::joinable!(grant_indicators -> grants (grant_id));
diesel::joinable!(indicator_results -> grant_indicators (indicator_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    outbox,
    organisations,
    organisation_primary_contacts,
    users,
    sessions,
    refresh_tokens,
    one_time_tokens,
    api_clients,
    organisation_tags,
    organisation_slug_history,
    membership_applications,
    membership_renewal_requests,
    funds,
    grant_counters,
    grants,
    grant_reports,
    disbursements,
    idempotency_keys,
    organisation_identifiers,
    fund_publications,
    grant_contributors,
    fx_rates,
    fx_rate_history,
    fund_raises,
    webhook_subscriptions,
    webhook_deliveries,
    webhook_attempts,
    bank_accounts,
    payment_runs,
    payment_run_lines,
    documents,
    budget_lines,
    budget_revisions,
    report_actuals,
    grant_indicators,
    indicator_results,
);
