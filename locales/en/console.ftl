# Console pages. Layout and navigation first, then one section per page.
nav-main = Main
nav-inbox = Inbox
nav-payments = Payments
nav-applications = Applications
nav-grants = Grants
nav-funds = Funds
nav-membership = Membership
nav-account = Account
nav-signed-in-as = Signed in as { $name }
nav-sign-out = Sign out
nav-sign-in = Sign in
nav-runs = Runs
nav-register = Register
nav-renewals = Renewals
nav-dashboard = Dashboard
nav-profile = Profile
nav-colleagues = Colleagues
nav-bank-accounts = Bank accounts

## Grants (the member's grants, tranches and reports)
grants-title = Grants
grants-member-title = Your organisation's grants
grants-new = New grant
grants-reports-owed = Reports owed
grants-report = Report
grants-grant = Grant
grants-due-on = Due on
grants-status = Status
grants-overdue = (overdue)
grants-tranches = Tranches
grants-amount = Amount
grants-planned-date = Planned date
grants-paid-on = on { $paid_on }
grants-reference = Reference
grants-grant-title = Title
grants-none = No grants yet.

## Membership
membership-title = Membership of { $organisation }
membership-organisation = Organisation
membership-status = Membership
membership-period = Period
membership-period-range = { $start } to { $end }
membership-none = none
membership-renewal = Renewal
membership-renewal-ask = Ask the secretariat to renew your organisation's membership. The admins are told at once and decide; you will receive an email when it is done.
membership-renewal-button = Ask for renewal
membership-renewal-others = A member of the organisation asks for renewal here; the admins renew it with a membership decision.
membership-renewal-requested = Renewal requested: the secretariat has been told and will email you its decision.

## Account (the signed-in user's own settings)
account-title = Your account
account-language = Language
account-language-hint = Emails and these pages are written in this language.
account-save = Save
account-saved = Your language is saved.
