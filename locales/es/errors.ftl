problem-validation = Solicitud no válida
problem-bad-request = Solicitud incorrecta
problem-unauthorized = No autenticado
problem-forbidden = Prohibido
problem-not-found = No encontrado
problem-method-not-allowed = Método no permitido
problem-conflict = Conflicto
problem-precondition-failed = Condición previa no cumplida
problem-payload-too-large = Contenido demasiado grande
problem-unsupported-media-type = Tipo de contenido no admitido
problem-unprocessable = Solicitud no procesable
problem-precondition-required = Condición previa obligatoria
problem-too-many-requests = Demasiadas solicitudes
problem-unavailable = Servicio no disponible
problem-internal = Error interno del servidor
problem-fields-invalid = { $count ->
    [one] { $count } campo no es válido
   *[other] { $count } campos no son válidos
}

field-required = Este campo es obligatorio.
field-invalid = Este valor no es válido.
field-invalid_length = Este valor es demasiado corto o demasiado largo.
field-too_long = Este valor es demasiado largo.
field-unknown_code = Este código no es uno de los códigos admitidos.
field-unknown = Este valor es desconocido.
field-unknown_field = Este campo no forma parte de la solicitud; elimínelo.
field-invalid_type = Este valor tiene un tipo incorrecto.
field-malformed_json = El cuerpo no es un JSON válido.
field-not_allowed = Este campo no puede indicarse aquí.
field-out_of_range = Este valor está fuera del intervalo admitido.
field-control_character = Elimine los caracteres de control (como NUL) de este valor.
field-unknown_currency = Esta moneda no es un código ISO 4217 conocido.
field-mismatch = Este valor no coincide.
