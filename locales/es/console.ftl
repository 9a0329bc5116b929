nav-main = Principal
nav-inbox = Bandeja de entrada
nav-payments = Pagos
nav-applications = Solicitudes
nav-grants = Subvenciones
nav-funds = Fondos
nav-membership = Membresía
nav-account = Cuenta
nav-signed-in-as = Sesión iniciada como { $name }
nav-sign-out = Cerrar sesión
nav-sign-in = Iniciar sesión
nav-runs = Lotes de pago
nav-register = Registro de pagos
nav-renewals = Renovaciones
nav-dashboard = Panel
nav-profile = Perfil
nav-colleagues = Colegas
nav-bank-accounts = Cuentas bancarias

## Subvenciones
grants-title = Subvenciones
grants-member-title = Las subvenciones de su organización
grants-new = Nueva subvención
grants-reports-owed = Informes pendientes
grants-report = Informe
grants-grant = Subvención
grants-due-on = Vence el
grants-status = Estado
grants-overdue = (vencido)
grants-tranches = Tramos
grants-amount = Importe
grants-planned-date = Fecha prevista
grants-paid-on = el { $paid_on }
grants-reference = Referencia
grants-grant-title = Título
grants-none = Aún no hay subvenciones.

## Membresía
membership-title = Membresía de { $organisation }
membership-organisation = Organización
membership-status = Membresía
membership-period = Periodo
membership-period-range = del { $start } al { $end }
membership-none = ninguna
membership-renewal = Renovación
membership-renewal-ask = Pida a la secretaría que renueve la membresía de su organización. Se avisa de inmediato a los administradores, que deciden; recibirá un correo cuando esté hecho.
membership-renewal-button = Pedir la renovación
membership-renewal-others = Un miembro de la organización pide aquí la renovación; los administradores la renuevan con una decisión de membresía.
membership-renewal-requested = Renovación solicitada: se ha avisado a la secretaría, que le enviará su decisión por correo.

## Cuenta
account-title = Su cuenta
account-language = Idioma
account-language-hint = Los correos y estas páginas se escriben en este idioma.
account-save = Guardar
account-saved = Se ha guardado su idioma.
