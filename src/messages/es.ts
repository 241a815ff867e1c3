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
  notFoundTitle: 'Página no encontrada',
  notFoundBody: 'La dirección que abrió no existe o cambió.',
  serverErrorTitle: 'Algo salió mal',
  serverErrorBody:
    'No pudimos completar su pedido. Intente de nuevo en unos minutos; si el problema sigue, llame al CALL CENTER 144.',
  goToLogin: 'Ir al inicio de sesión',
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
  INTERNAL: 'No pudimos completar su pedido. Intente de nuevo en unos minutos.',
} as const;

export type ErrorCode = keyof typeof errors;
