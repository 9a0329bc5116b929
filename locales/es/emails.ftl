email-greeting = Estimada/o { $recipient_name }:
email-no-deadline = Plazo: ninguno.

## Tramo pagado (disbursement_paid)
disbursement-paid-subject = [{ $network_name }] Tramo de { $amount } pagado en la subvención { $grant_reference }
disbursement-paid-body = { $actor_name } ha registrado el pago de un tramo de { $amount } de la subvención { $grant_reference } ({ $grant_title }) a { $grantee_name }: pagado el { $paid_on }, referencia { $payment_reference }.
disbursement-paid-next = Qué hacer ahora: compruebe que el dinero ha llegado; avise a la secretaría si no ha llegado en unos días hábiles.
disbursement-paid-link = Ver el tramo

## Informe pendiente (report_due)
report-due-subject = [{ $network_name }] El informe «{ $report_title }» vence en { $days ->
    [one] { $days } día
   *[other] { $days } días
}
report-due-body = El informe «{ $report_title }» de la subvención { $grant_reference } ({ $grant_title }) a { $grantee_name } vence el { $due_on }, dentro de { $days ->
    [one] { $days } día
   *[other] { $days } días
}.
report-due-next = Qué hacer ahora: preséntelo con un enlace al documento.
report-due-by-when = Plazo: { $due_on }.
report-due-link = Presentar el informe

## La membresía termina pronto (membership_reminder)
membership-reminder-subject = Su membresía en { $network_name } termina dentro de { $days_left ->
    [one] { $days_left } día
   *[other] { $days_left } días
}
membership-reminder-body = La membresía de { $organisation_name } en { $network_name } termina el { $period_end }, dentro de { $days_left ->
    [one] { $days_left } día
   *[other] { $days_left } días
}.
membership-reminder-next = Qué hacer ahora: pida a la secretaría que la renueve desde la página de membresía que aparece abajo.
membership-reminder-by-when = Plazo: antes del { $period_end }.
membership-reminder-link = Renovar la membresía

## Membresía renovada (membership_renewed)
membership-renewed-subject = [{ $network_name }] Se ha renovado la membresía de { $organisation_name }
membership-renewed-body = { $actor_name } ha renovado la membresía de { $organisation_name } en { $network_name }.
membership-renewed-next = Qué hacer ahora: nada.
membership-renewed-period = El nuevo periodo dura hasta el { $period_end }; le avisaremos antes de que termine.
membership-renewed-link = Ver la membresía
