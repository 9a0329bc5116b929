problem-validation = Requête invalide
problem-bad-request = Requête incorrecte
problem-unauthorized = Non authentifié
problem-forbidden = Interdit
problem-not-found = Introuvable
problem-method-not-allowed = Méthode non autorisée
problem-conflict = Conflit
problem-precondition-failed = Échec de la condition préalable
problem-payload-too-large = Contenu trop volumineux
problem-unsupported-media-type = Type de contenu non pris en charge
problem-unprocessable = Requête impossible à traiter
problem-precondition-required = Condition préalable requise
problem-too-many-requests = Trop de requêtes
problem-unavailable = Service indisponible
problem-internal = Erreur interne du serveur
problem-fields-invalid = { $count ->
    [one] { $count } champ est invalide
   *[other] { $count } champs sont invalides
}

field-required = Ce champ est obligatoire.
field-invalid = Cette valeur n’est pas valide.
field-invalid_length = Cette valeur est trop courte ou trop longue.
field-too_long = Cette valeur est trop longue.
field-unknown_code = Ce code ne fait pas partie des codes autorisés.
field-unknown = Cette valeur est inconnue.
field-unknown_field = Ce champ ne fait pas partie de la requête ; retirez-le.
field-invalid_type = Cette valeur n’a pas le bon type.
field-malformed_json = Le corps n’est pas un JSON valide.
field-not_allowed = Ce champ ne peut pas être renseigné ici.
field-out_of_range = Cette valeur est hors de l’intervalle autorisé.
field-control_character = Retirez les caractères de contrôle (comme NUL) de cette valeur.
field-unknown_currency = Cette devise n’est pas un code ISO 4217 connu.
field-mismatch = Cette valeur ne correspond pas.
