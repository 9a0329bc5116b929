# Emails. A template says {{ l10n("key") }}; every variable of the message is taken from
# the email's context by name ($amount and dates arrive written for the reader's locale).

email-greeting = Dear { $recipient_name },
email-no-deadline = By when: no deadline.

## Tranche paid (disbursement_paid)
disbursement-paid-subject = [{ $network_name }] Tranche of { $amount } paid on grant { $grant_reference }
disbursement-paid-body = { $actor_name } has recorded the payment of a tranche of { $amount } on the grant { $grant_reference } ({ $grant_title }) to { $grantee_name }: paid on { $paid_on }, reference { $payment_reference }.
disbursement-paid-next = What to do next: check that the money arrived; tell the secretariat if it has not within a few working days.
disbursement-paid-link = See the tranche

## Report due (report_due)
report-due-subject = [{ $network_name }] Report "{ $report_title }" due in { $days ->
    [one] { $days } day
   *[other] { $days } days
}
report-due-body = The report "{ $report_title }" on the grant { $grant_reference } ({ $grant_title }) to { $grantee_name } is due on { $due_on }, in { $days ->
    [one] { $days } day
   *[other] { $days } days
}.
report-due-next = What to do next: submit it with a link to the document.
report-due-by-when = By when: { $due_on }.
report-due-link = Submit the report

## Membership ends soon (membership_reminder)
membership-reminder-subject = Your { $network_name } membership ends in { $days_left ->
    [one] { $days_left } day
   *[other] { $days_left } days
}
membership-reminder-body = The membership of { $organisation_name } in { $network_name } ends on { $period_end }, in { $days_left ->
    [one] { $days_left } day
   *[other] { $days_left } days
}.
membership-reminder-next = What to do next: ask the secretariat to renew it from the membership page below.
membership-reminder-by-when = By when: before { $period_end }.
membership-reminder-link = Renew the membership

## Membership renewed (membership_renewed)
membership-renewed-subject = [{ $network_name }] The membership of { $organisation_name } is renewed
membership-renewed-body = { $actor_name } has renewed the membership of { $organisation_name } in { $network_name }.
membership-renewed-next = What to do next: nothing.
membership-renewed-period = The new period runs until { $period_end }; we will remind you before it ends.
membership-renewed-link = See the membership
