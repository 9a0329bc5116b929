# Problem titles (the `title` of a problem+json answer), one per kind of problem.
# The problem `type` and the field `code` never change with the language.
problem-validation = Invalid request
problem-bad-request = Bad request
problem-unauthorized = Unauthorized
problem-forbidden = Forbidden
problem-not-found = Not found
problem-method-not-allowed = Method not allowed
problem-conflict = Conflict
problem-precondition-failed = Precondition failed
problem-payload-too-large = Payload too large
problem-unsupported-media-type = Unsupported media type
problem-unprocessable = Unprocessable request
problem-precondition-required = Precondition required
problem-too-many-requests = Too many requests
problem-unavailable = Service unavailable
problem-internal = Internal server error
# The `detail` of a validation problem with several fields in error.
problem-fields-invalid = { $count ->
    [one] { $count } field is invalid
   *[other] { $count } fields are invalid
}

# Field messages by field-error `code`. A code without a message here keeps the
# (English) message the check wrote.
field-required = This field is required.
field-invalid = This value is not valid.
field-invalid_length = This value is too short or too long.
field-too_long = This value is too long.
field-unknown_code = This code is not one of the allowed codes.
field-unknown = This value is not known.
field-unknown_field = This field is not part of the request; remove it.
field-invalid_type = This value has the wrong type.
field-malformed_json = The body is not valid JSON.
field-not_allowed = This field may not be set here.
field-out_of_range = This value is out of the allowed range.
field-control_character = Remove control characters (such as NUL) from this value.
field-unknown_currency = This currency is not a known ISO 4217 code.
field-mismatch = This value does not match.
