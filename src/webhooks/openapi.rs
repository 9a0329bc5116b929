//! The OpenAPI 3.1 `webhooks` section: one entry per event type, with the Standard Webhooks
//! headers and the payload schema. Tranches and reports are no events: partner apps never see
//! them (a payment shows in `grant.updated` and `fund.updated`). utoipa 5 has no model for it, so it is added as a
//! top-level member through the document's extensions map.

use serde_json::{Value, json};

use super::model::EventType;

fn data_schema(e: EventType) -> Value {
    let org = json!({"$ref": "#/components/schemas/Organisation"});
    match e {
        EventType::OrganisationCreated
        | EventType::OrganisationUpdated
        | EventType::OrganisationUnhidden => json!({
            "allOf": [org],
            "description": "The organisation as the public directory shows it (public field groups only)."
        }),
        EventType::OrganisationHidden => json!({
            "type": "object",
            "description": "The organisation was withdrawn from the public directory: delete what you hold about it. Only its id is sent.",
            "required": ["id"],
            "properties": {"id": {"type": "string", "description": "Organisation id."}}
        }),
        EventType::MembershipChanged => json!({
            "type": "object",
            "description": "A member's standing changed. Not sent for hidden organisations.",
            "required": ["organisation_id", "listed", "organisation"],
            "properties": {
                "organisation_id": {"type": "string", "description": "Organisation id."},
                "listed": {"type": "boolean", "description": "Whether it is now in the public directory; when false, delete what you hold about it."},
                "organisation": {"oneOf": [{"type": "null"}, org], "description": "The public view when listed, else null."}
            }
        }),
        EventType::GrantPublished
        | EventType::GrantUpdated
        | EventType::GrantClosed
        | EventType::GrantCancelled => json!({
            "allOf": [{"$ref": "#/components/schemas/PartnerGrant"}],
            "description": "The grant as partner apps read it over REST (its published fields: never a tranche, a report, a staff id or a note). A grant to a hidden organisation carries the neutral view (grantee_withheld, no grantee id, a neutral title and description); hiding or showing a grantee sends grant.updated for each of its published grants. A payment or its reversal shows as grant.updated (amount_disbursed). Only to apps with grants:read."
        }),
        EventType::FundCreated | EventType::FundUpdated => json!({
            "allOf": [{"$ref": "#/components/schemas/PartnerFund"}],
            "description": "The fund's published fields (never a raise waiting for confirmation, nor who asked for it); a fund of a hidden donor names no donor. Only to apps with grants:read."
        }),
        EventType::Ping => json!({
            "type": "object",
            "description": "Sent once when the subscription is created.",
            "required": ["subscription_id"],
            "properties": {"subscription_id": {"type": "string", "description": "The subscription."}}
        }),
    }
}

fn summary(e: EventType) -> &'static str {
    match e {
        EventType::OrganisationCreated => {
            "An organisation appeared in the public directory (directory:read)"
        }
        EventType::OrganisationUpdated => {
            "A listed organisation's public profile changed (directory:read)"
        }
        EventType::OrganisationHidden => {
            "An organisation was hidden from the public: withdraw it (directory:read)"
        }
        EventType::OrganisationUnhidden => "A hidden organisation is public again (directory:read)",
        EventType::MembershipChanged => "A member's standing changed (directory:read)",
        EventType::GrantPublished => "A grant was approved and published (grants:read)",
        EventType::GrantUpdated => "A published grant changed (grants:read)",
        EventType::GrantClosed => "A published grant was closed (grants:read)",
        EventType::GrantCancelled => "A published grant was cancelled (grants:read)",
        EventType::FundCreated => "A fund was created (grants:read)",
        EventType::FundUpdated => "A fund changed (grants:read)",
        EventType::Ping => "Sent once when a subscription is created",
    }
}

fn header(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}})
}

/// The `webhooks` member of the document.
pub fn section() -> Value {
    let mut out = serde_json::Map::new();
    for e in EventType::ALL {
        let op = json!({
            "post": {
                "tags": ["webhooks"],
                "summary": summary(e),
                // The service calls the receiver: no token is sent, the signature is the proof.
                "security": [],
                // How to verify, deduplicate and answer is the same for every event: it is
                // said once, in the `webhooks` tag's description.
                "description": "POSTed to each enabled subscription that asked for this event and whose app may read it; \
                    verify, deduplicate and answer as the `webhooks` tag describes.",
                "parameters": [
                    header("webhook-id", "Message id, the same on every retry and replay."),
                    header("webhook-timestamp", "Unix time of this attempt, in seconds."),
                    header("webhook-signature", "Space-separated `v1,<base64>` signatures."),
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["type", "timestamp", "data"],
                        "properties": {
                            "type": {"type": "string", "const": e.as_str(), "description": "Event type."},
                            "timestamp": {"type": "string", "format": "date-time", "description": "When the change happened (RFC 3339)."},
                            "data": data_schema(e)
                        }
                    }}}
                },
                "responses": {
                    "2XX": {"description": "Received."},
                    "410": {"description": "Gone: the subscription is disabled at once."}
                }
            }
        });
        out.insert(e.as_str().to_string(), op);
    }
    Value::Object(out)
}

/// Adds the `webhooks` section, the schemas only webhooks use and the `webhooks` tag to `doc`.
pub fn add_to(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::{PartialSchema, ToSchema};
    type Fund = crate::grants::access::PartnerFund;
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(Fund::name().into_owned(), Fund::schema());
    doc.extensions
        .get_or_insert_with(Default::default)
        .insert("webhooks".into(), section());
    let tag = utoipa::openapi::tag::TagBuilder::new()
        .name("webhooks")
        .description(Some(
            "Partner apps' event subscriptions, their delivery log, retry and replay",
        ))
        .build();
    let tags = doc.tags.get_or_insert_with(Vec::new);
    if !tags.iter().any(|t| t.name == "webhooks") {
        tags.push(tag);
    }
}
