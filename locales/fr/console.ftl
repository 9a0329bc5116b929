nav-main = Principale
nav-inbox = Boîte de réception
nav-payments = Paiements
nav-applications = Candidatures
nav-grants = Subventions
nav-funds = Fonds
nav-membership = Adhésion
nav-account = Compte
nav-signed-in-as = Connecté·e en tant que { $name }
nav-sign-out = Se déconnecter
nav-sign-in = Se connecter
nav-runs = Lots de paiement
nav-register = Registre des paiements
nav-renewals = Renouvellements
nav-dashboard = Tableau de bord
nav-profile = Profil
nav-colleagues = Collègues
nav-bank-accounts = Comptes bancaires

## Subventions
grants-title = Subventions
grants-member-title = Les subventions de votre organisation
grants-new = Nouvelle subvention
grants-reports-owed = Rapports attendus
grants-report = Rapport
grants-grant = Subvention
grants-due-on = Échéance
grants-status = Statut
grants-overdue = (en retard)
grants-tranches = Tranches
grants-amount = Montant
grants-planned-date = Date prévue
grants-paid-on = le { $paid_on }
grants-reference = Référence
grants-grant-title = Titre
grants-none = Aucune subvention pour l’instant.

## Adhésion
membership-title = Adhésion de { $organisation }
membership-organisation = Organisation
membership-status = Adhésion
membership-period = Période
membership-period-range = du { $start } au { $end }
membership-none = aucune
membership-renewal = Renouvellement
membership-renewal-ask = Demandez au secrétariat de renouveler l’adhésion de votre organisation. Les administrateurs sont prévenus aussitôt et décident ; vous recevrez un courriel une fois que ce sera fait.
membership-renewal-button = Demander le renouvellement
membership-renewal-others = Un membre de l’organisation demande ici le renouvellement ; les administrateurs le renouvellent par une décision d’adhésion.
membership-renewal-requested = Renouvellement demandé : le secrétariat est prévenu et vous enverra sa décision par courriel.

## Compte
account-title = Votre compte
account-language = Langue
account-language-hint = Les courriels et ces pages sont rédigés dans cette langue.
account-save = Enregistrer
account-saved = Votre langue est enregistrée.
