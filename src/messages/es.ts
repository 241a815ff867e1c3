// The Spanish catalogue: every text of the manual and every message a member
// can see, by stable id. Texts in «manual» come verbatim from the provider's
// user manual; keep their wording and accents.
export const manual = {
  loginTitle: 'Bienvenido al Portal del Socio',
  loginHint: 'Ingresá con tu N° de documento sin barra, sin puntos ni dígito verificador.',
  userLabel: 'Usuario',
  userPlaceholder: 'N° Documento',
  passwordLabel: 'Contraseña',
  passwordPlaceholder: 'Contraseña',
  notARobot: 'No soy un robot',
  logIn: 'INICIAR SESIÓN',
  forgotPassword: '¿Olvidaste tu contraseña?',
  notRegistered: '¿No estás registrado?',
  callCenter: 'CALL CENTER 144',
  back: 'VOLVER',
  forgotTitle: '¿Olvidaste tu contraseña?',
  forgotInstruction:
    'Debe ingresar N° de socio o cédula de identidad sin barra ni dígito verificador',
  memberOrDocumentLabel: 'N° de Socio o Cédula de Identidad',
  viaEmail: 'Recibir vía email',
  viaSms: 'Recibir vía sms',
  emailSent:
    'Le hemos enviado en un e-mail a su casilla de correo predeterminada para confirmar el cambio de PIN.',
  emailSentHelp:
    'Si no lo recibe en el momento, puede ser que usted no tenga ingresado un correo electrónico.',
  smsSent: 'Ingrese el código que le hemos enviado en un sms a su número de celular.',
  codeLabel: 'Código',
  codePlaceholder: 'Ingrese el código que le enviamos',
  changeTitle: 'Cambiar contraseña',
  newPasswordLabel: 'Nueva contraseña',
  newPasswordPlaceholder: 'Ingrese una nueva contraseña',
  repeatPasswordLabel: 'Repita contraseña',
  repeatPasswordPlaceholder: 'Repita la nueva contraseña',
  passwordChanged: 'Contraseña modificada correctamente',
  confirm: 'CONFIRMAR',
} as const;

export const text = {
  portalName: 'Portal del Socio',
  brand: 'Autogestión',
  showPassword: 'Mostrar contraseña',
  captchaNeedsJavascript:
    'La verificación «No soy un robot» necesita JavaScript. Actívelo en su navegador para continuar, o llame al CALL CENTER 144.',
  greeting: (firstName: string) => `Hola, ${firstName}`,
  memberNumber: 'N° de socio',
  document: 'Documento',
  logOut: 'Cerrar sesión',
  homeTitle: 'Inicio',
  loggedOut: 'Cerró su sesión. ¡Hasta pronto!',
  sessionExpired: 'Su sesión terminó por inactividad. Ingrese nuevamente.',
  errorSummary: 'Revise lo siguiente:',
  reviewMarkedField: 'Revise el dato marcado en rojo.',
  notFoundTitle: 'Página no encontrada',
  notFoundBody: 'La dirección que abrió no existe o cambió.',
  serverErrorTitle: 'Algo salió mal',
  serverErrorBody:
    'No pudimos completar su pedido. Intente de nuevo en unos minutos; si el problema sigue, llame al CALL CENTER 144.',
  goToLogin: 'Ir al inicio de sesión',
  openFormAgain: 'Abrir el formulario de nuevo',
  formRefusedTitle: 'Vuelva a abrir el formulario',
  skipToContent: 'Ir al contenido',
} as const;

/** Error codes (SCREAMING_SNAKE) to the Spanish message a member reads. */
export const errors = {
  INVALID_CREDENTIALS:
    'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.',
  DOCUMENT_REQUIRED: 'Ingrese su N° de documento.',
  DOCUMENT_INVALID:
    'El documento solo lleva números: sin barra, sin puntos ni dígito verificador (por ejemplo, 1234567).',
  DOCUMENT_HAS_CHECK_DIGIT: (base: string) =>
    `Parece que incluyó el dígito verificador. Ingrese su documento sin él: ${base}.`,
  PASSWORD_REQUIRED: 'Ingrese su contraseña.',
  CAPTCHA_REQUIRED: 'Marque la casilla «No soy un robot» para continuar.',
  CAPTCHA_FAILED:
    'No pudimos comprobar que no es un robot. Marque de nuevo la casilla «No soy un robot».',
  CAPTCHA_UNAVAILABLE: 'Este servidor no usa la verificación ALTCHA.',
  UNAUTHENTICATED: 'Su sesión no es válida o terminó. Ingrese nuevamente.',
  VALIDATION_FAILED: 'Algunos datos no son válidos. Revíselos e intente de nuevo.',
  FIELD_REQUIRED: 'Este dato es obligatorio.',
  FIELD_INVALID: 'Este dato no es válido.',
  MALFORMED_BODY: 'No pudimos leer los datos enviados.',
  BODY_TOO_LARGE: 'Los datos enviados son demasiado grandes.',
  UNSUPPORTED_MEDIA_TYPE: 'Formato de datos no admitido.',
  NOT_FOUND: 'No encontramos lo que buscaba.',
  METHOD_NOT_ALLOWED: 'Esta operación no está permitida aquí.',
  LOGIN_THROTTLED: 'Por su seguridad, después de varios intentos fallidos pausamos el ingreso.',
  REQUESTS_THROTTLED: 'Recibimos demasiados pedidos desde esta conexión.',
  FORM_EXPIRED:
    'Por su seguridad, este formulario ya no es válido. Ábralo de nuevo y vuelva a intentar.',
  CROSS_SITE_FORM:
    'Por su seguridad, solo aceptamos datos enviados desde las páginas del portal. Ábralo de nuevo y vuelva a intentar.',
  INTERNAL: 'No pudimos completar su pedido. Intente de nuevo en unos minutos.',
  SERVICE_BUSY: 'El servicio está muy ocupado. Espere unos segundos y vuelva a intentar.',
  DOCUMENT_OR_MEMBER_REQUIRED: 'Ingrese su N° de socio o su cédula de identidad.',
  DOCUMENT_OR_MEMBER_INVALID:
    'Ingrese solo números: su N° de socio o su cédula sin barra, sin puntos ni dígito verificador.',
  CHANNEL_REQUIRED: 'Elija cómo quiere recibir el cambio de contraseña: por email o por SMS.',
  CODE_REQUIRED: 'Ingrese el código que le enviamos por SMS.',
  CODE_FORMAT: 'El código tiene 6 números. Revíselo e ingréselo de nuevo.',
  CODE_INVALID:
    'El código no es correcto o ya venció. Revíselo, o vuelva atrás y solicite un código nuevo.',
  TOKEN_INVALID:
    'El link para cambiar la contraseña venció o ya fue usado. Solicite uno nuevo con «¿Olvidaste tu contraseña?».',
  PASSWORD_REJECTED: 'La contraseña elegida no cumple las reglas. Revise lo indicado.',
  NEW_PASSWORD_REQUIRED: 'Ingrese una nueva contraseña.',
  PASSWORD_CONFIRMATION_REQUIRED: 'Repita la nueva contraseña.',
  PASSWORD_MISMATCH: 'Las contraseñas no coinciden. Escriba la misma contraseña en los dos campos.',
  PASSWORD_LENGTH_MANUAL: 'La contraseña debe tener entre 6 y 10 caracteres.',
  PASSWORD_LENGTH_ASVS: 'La contraseña debe tener entre 8 y 64 caracteres.',
  PASSWORD_CHARACTERS: 'Use solo letras sin tilde ni ñ y números, sin espacios ni símbolos.',
  PASSWORD_NEEDS_DIGIT: 'La contraseña debe incluir al menos un número.',
  PASSWORD_PRINTABLE: 'La contraseña tiene caracteres que no se pueden escribir. Revísela.',
  PASSWORD_IS_PERSONAL: 'La contraseña no puede contener su documento ni su número de socio.',
  PASSWORD_COMMON: 'Esa contraseña es muy común y fácil de adivinar. Elija otra.',
  PASSWORD_IS_SERVICE_WORD:
    'La contraseña no puede contener el nombre de la institución ni del portal. Elija otra.',
} as const;

export type ErrorCode = keyof typeof errors;
