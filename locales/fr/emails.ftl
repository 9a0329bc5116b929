email-greeting = Bonjour { $recipient_name },
email-no-deadline = Échéance : aucune.

## Tranche payée (disbursement_paid)
disbursement-paid-subject = [{ $network_name }] Tranche de { $amount } payée sur la subvention { $grant_reference }
disbursement-paid-body = { $actor_name } a enregistré le paiement d’une tranche de { $amount } de la subvention { $grant_reference } ({ $grant_title }) à { $grantee_name } : payée le { $paid_on }, référence { $payment_reference }.
disbursement-paid-next = Que faire maintenant : vérifiez que l’argent est arrivé ; prévenez le secrétariat s’il n’est pas arrivé sous quelques jours ouvrés.
disbursement-paid-link = Voir la tranche

## Rapport attendu (report_due)
report-due-subject = [{ $network_name }] Le rapport « { $report_title } » est attendu dans { $days ->
    [one] { $days } jour
   *[other] { $days } jours
}
report-due-body = Le rapport « { $report_title } » de la subvention { $grant_reference } ({ $grant_title }) à { $grantee_name } est attendu le { $due_on }, dans { $days ->
    [one] { $days } jour
   *[other] { $days } jours
}.
report-due-next = Que faire maintenant : soumettez-le avec un lien vers le document.
report-due-by-when = Échéance : { $due_on }.
report-due-link = Soumettre le rapport

## L’adhésion se termine bientôt (membership_reminder)
membership-reminder-subject = Votre adhésion à { $network_name } se termine dans { $days_left ->
    [one] { $days_left } jour
   *[other] { $days_left } jours
}
membership-reminder-body = L’adhésion de { $organisation_name } à { $network_name } se termine le { $period_end }, dans { $days_left ->
    [one] { $days_left } jour
   *[other] { $days_left } jours
}.
membership-reminder-next = Que faire maintenant : demandez au secrétariat de la renouveler depuis la page d’adhésion ci-dessous.
membership-reminder-by-when = Échéance : avant le { $period_end }.
membership-reminder-link = Renouveler l’adhésion

## Adhésion renouvelée (membership_renewed)
membership-renewed-subject = [{ $network_name }] L’adhésion de { $organisation_name } est renouvelée
membership-renewed-body = { $actor_name } a renouvelé l’adhésion de { $organisation_name } à { $network_name }.
membership-renewed-next = Que faire maintenant : rien.
membership-renewed-period = La nouvelle période court jusqu’au { $period_end } ; nous vous préviendrons avant son terme.
membership-renewed-link = Voir l’adhésion
