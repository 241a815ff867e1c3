// The Spanish catalogue: every text of the manual and every message a member
// can see, by stable id. Texts in «manual» come verbatim from the provider's
// user manual; keep their wording and accents. Texts that name the provider
// or its call centre take them from the brand (BRAND_* settings), never
// written here: the manual's "CALL CENTER 144" is callCenter('144').

/** What the texts say of the provider: from the brand (src/site/brand.ts). */
export interface BrandWords {
  /** BRAND_NAME as written: "Autogestión". */
  readonly name: string;
  /** The name in the SMS alphabet (no accents): "Autogestion". */
  readonly smsName: string;
  /** BRAND_CALL_CENTER as members dial it: "144". */
  readonly callCenter: string;
}
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
  /** The help line: "CALL CENTER 144". */
  callCenter: (callCenter: string) => `CALL CENTER ${callCenter}`,
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
  /** The rule under «Nueva contraseña» with PASSWORD_POLICY=manual. */
  passwordRule:
    'La nueva contraseña debe tener entre 6 y 10 caracteres conteniendo números y/o letras (al menos un número)',
} as const;

export const text = {
  portalName: 'Portal del Socio',
  showPassword: 'Mostrar contraseña',
  captchaNeedsJavascript: (b: BrandWords) =>
    `La verificación «No soy un robot» necesita JavaScript. Actívelo en su navegador para continuar, o llame al CALL CENTER ${b.callCenter}.`,
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
  serverErrorBody: (b: BrandWords) =>
    `No pudimos completar su pedido. Intente de nuevo en unos minutos; si el problema sigue, llame al CALL CENTER ${b.callCenter}.`,
  goToLogin: 'Ir al inicio de sesión',
  openFormAgain: 'Abrir el formulario de nuevo',
  formRefusedTitle: 'Vuelva a abrir el formulario',
  skipToContent: 'Ir al contenido',
  loginPageTitle: 'Ingreso',
  loginHelpLinks: 'Ayuda para ingresar',
  channelQuestion: '¿Cómo quiere recibir el cambio de contraseña?',
  /** The rule under «Nueva contraseña» with PASSWORD_POLICY=asvs. */
  passwordRuleAsvs:
    'La nueva contraseña debe tener entre 8 y 64 caracteres. Puede usar letras, números, espacios y símbolos; una frase fácil de recordar es una buena contraseña.',
  /**
   * The notice above the change-password form. Its parts, in order: the
   * page puts the holder (maskedHolder) in bold between them.
   */
  changingPasswordOf: <T>(holder: T) => [
    'Está cambiando la contraseña de ',
    holder,
    '. Si no es su cuenta, no continúe y cierre esta página.',
  ],
  /** Whose password a form sets: "Ana P., documento ***456". */
  maskedHolder: (name: string, lastDigits: string) => `${name}, documento ***${lastDigits}`,
  canLogInNow: 'Ya puede ingresar con su cédula y la nueva contraseña.',
  /** The one answer to every password request, known document or not (API). */
  passwordRequestAccepted:
    'Si los datos corresponden a un socio, le enviamos el link o el código por el medio elegido.',
  /** The offline page of the installed portal (src/views/pages/offline.ts). */
  offlineTitle: 'Sin conexión',
  offlineBody:
    'No hay conexión a internet en este momento. Revise que tenga datos móviles o wifi y vuelva a intentar.',
  /** Its parts, in order: the CALL CENTER link goes between them. */
  offlineHelp: <T>(callCenter: T) => ['Si necesita ayuda, llame al ', callCenter, '.'],
  offlineRetry: 'Volver a intentar',
  /** Follows a throttled error's message: "Espere 1 minuto…" / "Espere 15 minutos…". */
  waitMinutes: (minutes: number) =>
    `Espere ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'} y vuelva a intentar.`,
} as const;

/**
 * Emails and SMS. The password request follows the wording of the manual's
 * email "Solicitud nueva contraseña". The SMS stays in GSM-7 (no accents:
 * one would force UCS-2 and a 70-character limit).
 */
export const mail = {
  /** The footer of every email. Its parts, in order: the CALL CENTER link goes between them. */
  questions: <T>(callCenter: T) => ['¿Dudas? Llame al ', callCenter, '.'],
  signature: (b: BrandWords) => `Atentamente, ${b.name}`,
  passwordRequest: {
    subject: 'Solicitud nueva contraseña',
    greeting:
      'Estimado/a Afiliado/a: hemos recibido su solicitud para obtener una nueva contraseña.',
    action:
      'Si efectivamente Usted envió la solicitud, haga click en el siguiente link para activar el cambio de contraseña:',
    button: 'Cambiar mi contraseña',
    help: 'Clickear en el link y lo llevará a la pantalla de cambio de contraseña o copiar y pegar el link en un navegador.',
    validity: (minutes: number) => `El link vence en ${minutes} minutos y sirve una sola vez.`,
    ignore: (b: BrandWords) =>
      `Si Usted no ha solicitado una nueva contraseña por favor no tome en cuenta este correo; su contraseña no cambiará. En caso que haya recibido varias notificaciones como ésta, por favor contáctese con Atención al Usuario al CALL CENTER ${b.callCenter}.`,
  },
  passwordChanged: {
    subject: 'Su contraseña fue modificada',
    greeting: 'Estimado/a Afiliado/a:',
    /** `when`: date and time in words; `how`: one of `via` (or `viaOther`). */
    what: (when: string, how: string) =>
      `La contraseña de su cuenta del Portal del Socio fue modificada el ${when} (hora de Uruguay), ${how}.`,
    /** How the password was changed, by `via` (email, sms, settings, desk). */
    via: {
      email: 'con el link que le enviamos por email',
      sms: 'con el código que le enviamos por SMS',
      settings: 'desde su sesión en el Portal del Socio',
      desk: 'con la ayuda de un centro de atención',
    } as Readonly<Record<string, string>>,
    viaOther: 'en el Portal del Socio',
    sessions: 'Por su seguridad, cerramos las sesiones que estaban abiertas.',
    /** The member's passkeys stay after a password change: said, so a stranger's one is noticed. */
    passkeys: (count: number) =>
      count === 1
        ? 'Su cuenta sigue teniendo 1 llave de acceso; puede verla o eliminarla en «Mi cuenta», «Llaves de acceso».'
        : `Su cuenta sigue teniendo ${count} llaves de acceso; puede verlas o eliminarlas en «Mi cuenta», «Llaves de acceso».`,
    ok: 'Si fue Usted, no necesita hacer nada más.',
    notYou: (b: BrandWords) =>
      `Si no fue Usted, llame cuanto antes al CALL CENTER ${b.callCenter} o solicite una nueva contraseña con la opción «¿Olvidaste tu contraseña?».`,
  },
  /** Under 160 characters with a 40-character name, the code its only 6-digit run. */
  smsCode: (b: BrandWords, code: string, minutes: number) =>
    `${b.smsName}: su codigo es ${code}. Vence en ${minutes} minutos. No lo comparta con nadie.`,
  /** After a passkey was added to the account (issue 14). */
  passkeyAdded: {
    subject: 'Se agregó una llave de acceso a su cuenta',
    greeting: 'Estimado/a Afiliado/a:',
    what: (name: string, when: string) =>
      `Se agregó la llave de acceso «${name}» a su cuenta del Portal del Socio el ${when} (hora de Uruguay). Con ella se puede ingresar sin contraseña, con la huella, la cara o el bloqueo de pantalla de ese dispositivo.`,
    ok: 'Si fue Usted, no necesita hacer nada más.',
    notYou: (b: BrandWords) =>
      `Si no fue Usted, ingrese a «Mi cuenta», «Llaves de acceso», elimínela y cambie su contraseña, o llame cuanto antes al CALL CENTER ${b.callCenter}.`,
  },
  /** Sent TO THE NEW email a member asked to use (src/flows/settings). */
  contactLink: {
    subject: 'Confirme su nuevo email',
    greeting: 'Estimado/a Afiliado/a:',
    action:
      'Pidió usar esta dirección de email en el Portal del Socio. Para confirmarla, haga click en el siguiente link:',
    button: 'Confirmar mi email',
    validity: (minutes: number) => `El link vence en ${minutes} minutos y sirve una sola vez.`,
    ignore:
      'Si Usted no lo pidió, no tome en cuenta este correo: sus datos de contacto no cambiarán.',
  },
  /** Sent to the OLD email (or mobile) after a contact change was proven. */
  contactChanged: {
    subject: 'Sus datos de contacto fueron modificados',
    greeting: 'Estimado/a Afiliado/a:',
    /** `what`: one of `kinds`; `when`: date and time in words. */
    what: (what: string, when: string) =>
      `${what} de su cuenta del Portal del Socio fue modificado el ${when} (hora de Uruguay).`,
    /** The same, changed by an employee at a branch: to the old contact and to the new one. */
    whatAtBranch: (what: string, when: string) =>
      `${what} de su cuenta del Portal del Socio fue modificado en un centro de atención el ${when} (hora de Uruguay).`,
    kinds: { email: 'El email', mobile: 'El número de celular' },
    ok: 'Si fue Usted, no necesita hacer nada más.',
    notYou: (b: BrandWords) =>
      `Si no fue Usted, llame cuanto antes al CALL CENTER ${b.callCenter}.`,
  },
  /** GSM-7, under 160 characters, the code its only 6-digit run: sent TO THE NEW mobile. */
  smsContactCode: (b: BrandWords, code: string, minutes: number) =>
    `${b.smsName}: su codigo para confirmar este celular es ${code}. Vence en ${minutes} minutos. No lo comparta con nadie.`,
  /** GSM-7: sent to the OLD mobile after a contact change was proven. */
  smsContactChanged: (b: BrandWords) =>
    `${b.smsName}: los datos de contacto de su cuenta fueron modificados. Si no fue usted, llame al ${b.callCenter}.`,
} as const;

/**
 * The member home ("Mi cuenta", src/flows/settings): how sessions and the
 * recent activity are named.
 */
export const account = {
  unknownDevice: 'Dispositivo desconocido',
  unknownBrowser: 'Navegador desconocido',
  /** The browser of a session the mobile app opened (API sessions). */
  portalApp: 'App del Portal',
  /** "Chrome en Android" */
  browserOnDevice: (browser: string, device: string) => `${browser} en ${device}`,
  /** One line of the recent activity per audit event, in plain words. */
  activity: {
    loginOk: 'Ingreso correcto',
    /** "Ingreso correcto desde Chrome en Android" */
    loginOkFrom: (where: string) => `Ingreso correcto desde ${where}`,
    loginFailed: 'Intento de ingreso fallido',
    logout: 'Cierre de sesión',
    sessionExpired: 'Sesión terminada por inactividad',
    throttled: 'Espera por intentos fallidos',
    linkSent: 'Enlace enviado por email',
    linkNotSent: 'Pedido de enlace por email (no enviado)',
    codeSent: 'Código enviado por SMS',
    codeNotSent: 'Pedido de código por SMS (no enviado)',
    contactLinkSent: 'Enlace para confirmar el nuevo email enviado',
    contactCodeSent: 'Código para confirmar el nuevo celular enviado por SMS',
    codeOk: 'Código ingresado correctamente',
    codeWrong: 'Código incorrecto',
    passwordChanged: 'Contraseña cambiada',
    currentPasswordWrong: 'Contraseña actual incorrecta en un cambio de datos',
    contactChanged: 'Datos de contacto cambiados',
    sessionClosed: 'Sesión cerrada',
    otherSessionsClosed: 'Otras sesiones cerradas',
    staffAction: 'Gestión en un centro de atención',
    /** Branch actions by detail.action; others read as staffAction. */
    staffActions: {
      member_viewed: 'Consulta de su cuenta en un centro de atención',
      identity_checked: 'Identidad verificada en un centro de atención',
      contact_updated: 'Datos de contacto cambiados en un centro de atención',
      activation_sent: 'Link o código enviado desde un centro de atención',
      activation_code_printed: 'Código de activación entregado en un centro de atención',
      member_unlocked: 'Ingreso habilitado en un centro de atención',
      passkeys_removed: 'Llaves de acceso eliminadas en un centro de atención',
      timeline_viewed: 'Consulta de su historial en un centro de atención',
    } as Record<string, string>,
    other: 'Evento de seguridad',
  },
} as const;

/** The pages of the member home ("Mi cuenta"). */
export const accountPages = {
  homeTitle: 'Mi cuenta',
  menuLabel: 'Opciones de su cuenta',
  contactTitle: 'Datos de contacto',
  passkeysTitle: 'Llaves de acceso',
  contactIntro:
    'Así tenemos sus datos. Para cambiar uno le enviamos un enlace o un código al dato nuevo; hasta que lo confirme, seguimos usando el actual.',
  email: 'Email',
  mobile: 'Celular',
  none: 'Sin dato',
  passwordTitle: 'Cambiar contraseña',
  passwordIntro: 'Al cambiarla, se cierran sus otras sesiones y le avisamos por email.',
  currentPassword: 'Contraseña actual',
  passwordChanged: 'Contraseña modificada correctamente. Sus otras sesiones se cerraron.',
  sessionsTitle: 'Sesiones activas',
  sessionsIntro: 'Los dispositivos donde su cuenta está abierta ahora.',
  thisSession: 'Esta sesión',
  lastUsed: (when: string) => `Último uso: ${when}`,
  fromAddress: (address: string) => `Desde ${address}`,
  closeSession: 'Cerrar',
  closeSessionLabel: (where: string) => `Cerrar la sesión de ${where}`,
  closeOthers: 'Cerrar todas las demás',
  sessionClosed: 'La sesión se cerró.',
  othersClosed: (count: number) =>
    count === 1 ? 'Se cerró 1 sesión.' : `Se cerraron ${count} sesiones.`,
  noOtherSessions: 'No hay otras sesiones abiertas.',
  activityTitle: 'Actividad reciente',
  activityIntro: 'Los últimos movimientos de seguridad de su cuenta (hora de Uruguay).',
  activityEmpty: 'Todavía no hay actividad para mostrar.',
  changeEmail: 'Cambiar email',
  changeMobile: 'Cambiar celular',
  newEmail: 'Nuevo email',
  newMobile: 'Nuevo celular',
  mobileHint: 'Por ejemplo, 099 123 456.',
  send: 'ENVIAR',
  linkSentTo: (where: string) =>
    `Le enviamos un enlace a ${where}. Ábralo para confirmar el cambio; vence en 30 minutos.`,
  codeSentTo: (where: string) =>
    `Le enviamos un código por SMS a ${where}. Ingréselo para confirmar el cambio; vence en 10 minutos.`,
  contactChanged: 'Sus datos de contacto se actualizaron.',
  confirmTitle: 'Confirmar el nuevo email',
  confirmQuestion: (email: string) => `¿Confirma que ${email} es su nuevo email?`,
  confirm: 'CONFIRMAR',
  back: 'VOLVER',
  home: 'Volver a Mi cuenta',
} as const;

/** "Tengo un código de activación": the code a branch printed (SPEC §2.7). */
export const activation = {
  link: 'Tengo un código de activación',
  title: 'Tengo un código de activación',
  lead: 'Ingrese su documento y el código de 10 caracteres que le entregaron impreso en un centro de atención. Después elegirá su contraseña.',
  codeLabel: 'Código de activación',
  codeHint: 'Como figura en la hoja, por ejemplo ABCDE-FGHJK. Puede escribirlo con o sin el guion.',
} as const;

/** Passkeys ("Llaves de acceso", issue 14). */
export const passkeys = {
  /** Passkey providers named by the AAGUID their authenticator reports (src/flows/passkeys/authenticators.ts). */
  providers: {
    google: 'Gestor de contraseñas de Google',
    icloud: 'Llavero de iCloud',
    chromeMac: 'Chrome en Mac',
  },
  /** The login page's button (public/passkeys.js shows it where the browser can use passkeys). */
  logInButton: 'Ingresar con llave de acceso',
  /** Between the password form and the button. */
  or: 'o',
  // What public/passkeys.js says next to its button; the page hands them over
  // in data attributes (src/views/pages/passkeys.ts). Never the browser's own text.
  waiting: 'Confirme en su dispositivo con la huella, el rostro o el bloqueo de pantalla.',
  checking: 'Verificando la llave de acceso…',
  /** NotAllowedError on login: cancelled, timed out, or no passkey of this portal on the device (browsers do not tell which). */
  loginCancelled:
    'No se usó ninguna llave de acceso: se canceló, pasó el tiempo o este dispositivo no tiene una llave de acceso para este portal. Intente de nuevo, o ingrese con su documento y contraseña.',
  /** NotAllowedError on creating one: cancelled or timed out. */
  createCancelled:
    'No se creó la llave de acceso: se canceló o pasó el tiempo. Puede intentar de nuevo.',
  /** InvalidStateError on creating one: the device already holds one for this account. */
  alreadyOnDevice:
    'Este dispositivo ya tiene una llave de acceso para su cuenta. Puede usarla para ingresar.',
  /** No WebAuthn for this page: an old browser, or an address that is not secure. */
  unsupported:
    'Este navegador o esta dirección del portal no permite usar llaves de acceso. Pruebe con un navegador actualizado, en la dirección habitual del portal.',
  failed: 'No se pudo usar la llave de acceso. Intente de nuevo en unos minutos.',
  network:
    'No pudimos comunicarnos con el portal. Revise su conexión a internet e intente de nuevo.',
  /** «Mi cuenta» → «Llaves de acceso» (src/views/pages/passkeys.ts). */
  intro:
    'Con una llave de acceso ingresa al portal con la huella, el rostro o el bloqueo de pantalla de su teléfono o computadora, sin escribir su documento ni su contraseña. Nadie puede usarla sin su dispositivo.',
  unavailable:
    'Este portal no tiene habilitadas las llaves de acceso. Puede seguir ingresando con su documento y contraseña.',
  listTitle: 'Sus llaves de acceso',
  empty: 'Todavía no tiene llaves de acceso.',
  createdOn: (when: string) => `Creada el ${when}`,
  lastUsed: (when: string) => `Último uso: ${when}`,
  neverUsed: 'Todavía no se usó',
  synced: 'Se sincroniza entre sus dispositivos',
  deviceOnly: 'Solo en el dispositivo donde se creó',
  nameLabel: 'Nombre',
  rename: 'Cambiar nombre',
  renameLabel: (name: string) => `Cambiar nombre de la llave de acceso “${name}”`,
  renamed: (name: string) => `La llave de acceso ahora se llama “${name}”.`,
  remove: 'Eliminar',
  removeLabel: (name: string) => `Eliminar la llave de acceso “${name}”`,
  removeTitle: 'Eliminar la llave de acceso',
  removeQuestion: (name: string) => `¿Eliminar la llave de acceso “${name}”?`,
  removeWarning:
    'Ya no podrá ingresar al portal con ella. Puede quedar guardada en su dispositivo: bórrela también allí, en la configuración de contraseñas o llaves de acceso.',
  removed: (name: string) => `Se eliminó la llave de acceso “${name}”.`,
  createTitle: 'Nueva llave de acceso',
  createHint:
    'Su teléfono o computadora le pedirá la huella, el rostro o el bloqueo de pantalla, y guardará la llave.',
  createButton: 'Crear llave de acceso',
  currentPasswordHint: 'Por su seguridad, ingrese su contraseña actual antes de crear la llave.',
  /** In place of the button without JavaScript or WebAuthn. */
  needsBrowser:
    'Para crear una llave de acceso necesita un navegador actualizado con JavaScript activado, en un teléfono o computadora con huella, reconocimiento facial o bloqueo de pantalla.',
  created: (name: string) => `Se creó la llave de acceso “${name}”. Ya puede usarla para ingresar.`,
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
  // The member home (src/flows/settings).
  CURRENT_PASSWORD_REQUIRED: 'Ingrese su contraseña actual.',
  CURRENT_PASSWORD_WRONG: 'La contraseña actual no es correcta.',
  SESSION_NOT_FOUND: 'No encontramos esa sesión. Puede que ya esté cerrada.',
  CONTACT_KIND_REQUIRED: 'Elija qué dato quiere cambiar: email o celular.',
  EMAIL_REQUIRED: 'Ingrese el nuevo email.',
  EMAIL_INVALID: 'Revise el email: debe tener la forma nombre@ejemplo.com.',
  MOBILE_REQUIRED: 'Ingrese el nuevo número de celular.',
  MOBILE_INVALID: 'Ingrese un celular uruguayo, por ejemplo 099 123 456.',
  CONTACT_UNCHANGED: 'Ese dato ya es el que tiene registrado.',
  CONTACT_LINK_INVALID:
    'El link para confirmar su nuevo email venció o ya fue usado. Pida uno nuevo desde «Mi cuenta».',
  MESSAGES_LIMIT: 'Ya le enviamos varios mensajes en la última hora. Intente de nuevo más tarde.',
  SMS_UNAVAILABLE: 'En este momento no podemos enviar SMS. Intente de nuevo más tarde.',
  // The activation code printed at a branch ("Tengo un código de activación").
  ACTIVATION_CODE_REQUIRED:
    'Ingrese el código de activación que le entregaron en el centro de atención.',
  ACTIVATION_CODE_FORMAT:
    'El código de activación tiene 10 letras y números, como figura en la hoja impresa. Revíselo e ingréselo de nuevo.',
  ACTIVATION_CODE_INVALID:
    'El código de activación no es correcto, ya fue usado o venció. Revíselo; si sigue sin funcionar, pida uno nuevo en un centro de atención o llame al call center.',
  // Passkeys (src/flows/passkeys).
  PASSKEYS_UNAVAILABLE:
    'Las llaves de acceso no están disponibles en esta dirección del portal. Ingrese con su documento y contraseña.',
  PASSKEY_FAILED:
    'No pudimos verificar la llave de acceso. Intente de nuevo, o ingrese con su documento y contraseña.',
  PASSKEY_EXPIRED: 'Pasó demasiado tiempo desde que empezó. Intente de nuevo.',
  PASSKEY_UNKNOWN:
    'Esa llave de acceso no está registrada en el portal (puede haber sido eliminada). Ingrese con su documento y contraseña.',
  PASSKEY_ALREADY_REGISTERED: 'Esa llave de acceso ya está registrada en el portal.',
  PASSKEY_LIMIT:
    'Su cuenta ya tiene el máximo de llaves de acceso. Elimine una que no use para agregar otra.',
  PASSKEY_NOT_FOUND: 'No encontramos esa llave de acceso. Puede que ya esté eliminada.',
  PASSKEY_NAME_REQUIRED: 'Escriba un nombre para la llave de acceso.',
  PASSKEY_NAME_INVALID: 'Use un nombre de hasta 60 caracteres.',
  // The branch desk (src/staff).
  STAFF_PASSWORD_LENGTH: 'La contraseña del personal debe tener entre 12 y 64 caracteres.',
} as const;

export type ErrorCode = keyof typeof errors;

/**
 * The branch desk (/mesa): the pages employees use, apart from the members'
 * portal (src/routes/web/desk.ts, src/views/pages/desk.ts).
 */
export const desk = {
  areaName: 'Mesa de atención',
  /** The roles as employees read them (staff_users.role). */
  roles: {
    desk: 'Atención al socio',
    supervisor: 'Supervisión',
    admin: 'Administración',
  },
  // Login.
  loginTitle: 'Ingreso a la mesa de atención',
  loginLead:
    'Para el personal de los centros de atención. Ingrese con su email, su contraseña y el código de su aplicación de autenticación.',
  emailLabel: 'Email',
  passwordLabel: 'Contraseña',
  codeLabel: 'Código de la aplicación o código de recuperación',
  codeHint:
    'Los 6 números que su aplicación muestra ahora, o uno de sus códigos de recuperación si no tiene el teléfono.',
  logIn: 'Ingresar',
  emailRequired: 'Ingrese su email.',
  passwordRequired: 'Ingrese su contraseña.',
  codeRequired: 'Ingrese el código de la aplicación o un código de recuperación.',
  /** The one answer to every failed login: never which part was wrong. */
  loginFailed:
    'El email, la contraseña o el código no son correctos. Revíselos e intente de nuevo.',
  /** Followed by "Espere N minutos y vuelva a intentar." */
  loginThrottled:
    'Por su seguridad, después de varios intentos fallidos pausamos el ingreso a la mesa.',
  loggedOut: 'Cerró su sesión en la mesa de atención.',
  sessionExpired: 'Su sesión en la mesa terminó. Ingrese nuevamente.',
  // Home.
  homeTitle: 'Mesa de atención',
  nameLabel: 'Nombre',
  roleLabel: 'Rol',
  sessionLimits: (idleMinutes: number, maxHours: number) =>
    `Por seguridad, su sesión se cierra después de ${idleMinutes} minutos sin uso y, en todo caso, ${maxHours} horas después de ingresar.`,
  searchTitle: 'Buscar socio',
  searchLabel: 'Documento o N° de socio',
  searchHint: 'El documento en cualquier formato, o el número de socio.',
  search: 'Buscar',
  backHome: 'Volver a la mesa',
  logOut: 'Cerrar sesión',
  // Refused by role.
  forbiddenTitle: 'Sin permiso',
  forbidden:
    'Su rol no permite usar esta parte de la mesa. Si la necesita, pídaselo a un administrador.',
  // Enrolment (the link of npm run staff:create or of an admin).
  enrolTitle: 'Alta en la mesa de atención',
  enrolIntro:
    'Para ingresar a la mesa necesita una contraseña y los códigos de una aplicación de autenticación en su teléfono (por ejemplo Google Authenticator, Microsoft Authenticator o FreeOTP).',
  enrolStepApp: '1. Agregue la cuenta a la aplicación',
  enrolScan: 'Abra la aplicación de autenticación y escanee este código QR.',
  qrLabel: (email: string) =>
    `Código QR para agregar la cuenta ${email} a la aplicación de autenticación`,
  enrolManualKey:
    '¿No puede escanear el código? Elija «Ingresar una clave de configuración» en la aplicación, escriba su email como nombre de la cuenta y esta clave, basada en el tiempo:',
  enrolStepPassword: '2. Elija su contraseña',
  newPasswordLabel: 'Contraseña',
  repeatPasswordLabel: 'Repita la contraseña',
  passwordRule:
    'Entre 12 y 64 caracteres. Puede usar letras, números, espacios y símbolos; una frase fácil de recordar es una buena contraseña. No puede contener su nombre ni su email.',
  enrolStepCode: '3. Confirme con un código',
  appCodeLabel: 'Código de la aplicación',
  appCodeHint: 'Los 6 números que la aplicación muestra ahora para esta cuenta.',
  appCodeRequired: 'Ingrese el código de 6 números que muestra la aplicación.',
  appCodeFormat: 'El código tiene 6 números, sin letras.',
  appCodeWrong:
    'El código no es correcto. Escriba los 6 números que la aplicación muestra ahora; si sigue sin coincidir, revise que la hora del teléfono sea la correcta.',
  enrolFinish: 'Completar el alta',
  enrolInvalidTitle: 'El link de alta no es válido',
  enrolInvalid:
    'El link de alta venció, ya fue usado o fue reemplazado por uno nuevo. Pida un link nuevo a un administrador de la mesa.',
  enrolDoneTitle: 'Alta completa',
  enrolDone: 'Su contraseña y su aplicación de autenticación quedaron registradas.',
  recoveryTitle: 'Sus códigos de recuperación',
  recoveryKeep:
    'Guárdelos en un lugar seguro: cada uno sirve una sola vez, para ingresar cuando no tenga el teléfono a mano. No se volverán a mostrar; anótelos o imprímalos ahora.',
  goToLogin: 'Ingresar a la mesa',
  // Finding a member.
  searchRequired: 'Escriba el documento o el número de socio.',
  searchInvalid:
    'Escriba solo el documento (con o sin puntos y guion) o el número de socio, sin letras.',
  memberNotFound:
    'No hay ningún socio con ese documento o número. Revise el número con el documento que el socio le muestra.',
  lookupsLimit:
    'Consultó muchas fichas de socios en la última hora. Por seguridad, espere antes de consultar otra; si es un error, avise a un supervisor.',
  sendsLimit:
    'Hizo muchos envíos e impresiones de códigos en la última hora. Por seguridad, espere antes de hacer otro; si es un error, avise a un supervisor.',
  searchAgain: 'Buscar otro socio',
  // The member's card.
  memberTitle: (name: string) => `Socio: ${name}`,
  cardTitle: 'Datos del socio',
  documentLabel: 'Documento',
  memberNumberLabel: 'N° de socio',
  statusLabel: 'Estado',
  statuses: { active: 'Activo', inactive: 'Inactivo (no puede ingresar al portal)' },
  passwordStateLabel: 'Contraseña',
  passwordSince: (when: string) => `Creada; último cambio el ${when}`,
  passwordSet: 'Creada',
  passwordNone: 'Todavía no creó su contraseña',
  loginStateLabel: 'Ingreso al portal',
  loginFree: 'Habilitado',
  loginFailures: (n: number) =>
    `Habilitado; ${n} ${n === 1 ? 'intento fallido reciente' : 'intentos fallidos recientes'}`,
  loginPaused: (until: string, n: number) =>
    `En pausa hasta las ${until} después de ${n} intentos fallidos`,
  emailStateLabel: 'Email',
  mobileStateLabel: 'Celular',
  passkeysStateLabel: 'Llaves de acceso',
  passkeysCount: (n: number) =>
    n === 0 ? 'Ninguna' : n === 1 ? '1 llave de acceso' : `${n} llaves de acceso`,
  noEmail: 'Sin email registrado',
  noMobile: 'Sin celular registrado',
  inactiveNote:
    'El socio está inactivo en el padrón: no se le pueden enviar links ni códigos. Si debería estar activo, derive el caso a la administración del padrón.',
  // The identity check.
  identityTitle: 'Verificar la identidad',
  identityLead:
    'Antes de cualquier gestión, compare el documento que el socio le muestra con los datos de arriba y registre cómo lo verificó.',
  documentKindLegend: 'Documento mostrado',
  documentKinds: { cedula: 'Cédula de identidad', pasaporte: 'Pasaporte', otro: 'Otro documento' },
  noteLabel: 'Nota',
  noteHint:
    'Breve: por ejemplo, qué documento y si el socio vino acompañado. No escriba datos de salud.',
  identitySubmit: 'Registrar la verificación',
  documentKindRequired: 'Elija qué documento le mostró el socio.',
  noteRequired: 'Escriba una nota breve sobre la verificación.',
  noteTooLong: (max: number) => `Escriba como máximo ${max} caracteres.`,
  fixFields: 'Revise los datos indicados.',
  identityDone: (kind: string, time: string, note: string) =>
    `Identidad verificada con ${kind} a las ${time}. Nota: «${note.replace(/[.\s]+$/, '')}».`,
  identityValid: (minutes: number) =>
    `La verificación vale ${minutes} minutos para sus gestiones con este socio.`,
  visitRequired:
    'Primero registre cómo verificó la identidad del socio (o la verificación venció: vale 30 minutos).',
  memberInactive: 'El socio está inactivo: no se le pueden enviar links ni códigos.',
  // Actions.
  actionsTitle: 'Gestiones',
  noPasswordNote:
    'Usted nunca ve ni elige la contraseña: el socio la elige en «Cambiar contraseña».',
  sendTitle: 'Enviar un link o un código',
  sendLead: (flow: 'recovery' | 'registration') =>
    flow === 'registration'
      ? 'El socio todavía no tiene contraseña: recibirá el mensaje para crearla, igual que con «¿No estás registrado?».'
      : 'El socio recibirá el mensaje para cambiar su contraseña, igual que con «¿Olvidaste tu contraseña?».',
  sendChannelLegend: 'Enviar por',
  sendByEmail: (to: string) => `Email a ${to}`,
  sendBySms: (to: string) => `SMS a ${to}`,
  send: 'Enviar',
  channelRequired: 'Elija si el mensaje va por email o por SMS.',
  channelUnavailable: 'El socio no tiene registrado ese dato de contacto. Actualícelo primero.',
  sentEmail:
    'Enviamos el link por email. Vale 30 minutos: pida al socio que abra el mensaje «Solicitud nueva contraseña» y siga el link.',
  sentSms: (path: string) =>
    `Enviamos el código por SMS. Vale 10 minutos: el socio lo ingresa en ${path}, con su documento.`,
  notSent: {
    member_limit:
      'No se envió: el socio ya recibió 5 mensajes en la última hora. Use el código de activación impreso.',
    number_hour_limit:
      'No se envió: ese celular ya recibió varios SMS en la última hora. Use el email o el código impreso.',
    number_day_limit:
      'No se envió: ese celular ya recibió varios SMS hoy. Use el email o el código impreso.',
    sms_budget:
      'No se envió: el servicio de SMS está pausado por ahora. Use el email o el código impreso.',
    no_contact: 'No se envió: el socio no tiene registrado ese dato de contacto.',
    inactive: 'No se envió: el socio está inactivo en el padrón.',
    unknown: 'No se envió el mensaje. Intente de nuevo.',
  } as Record<string, string>,
  printTitle: 'Código de activación impreso',
  printLead:
    'Un código de 10 caracteres para que el socio cree su contraseña desde su casa, sin email ni celular. Vale 24 horas y sirve una sola vez; imprimir uno nuevo anula el anterior.',
  printSubmit: 'Generar e imprimir el código',
  unlockTitle: 'Habilitar el ingreso',
  unlockLead:
    'Después de varios intentos fallidos el portal pausa el ingreso del socio. Quite la pausa solo con la identidad verificada.',
  unlockSubmit: 'Quitar la pausa de ingreso',
  unlocked: 'Quitamos la pausa: el socio ya puede ingresar.',
  nothingToUnlock: 'El ingreso del socio no estaba en pausa.',
  passkeysTitle: 'Eliminar las llaves de acceso',
  passkeysLead:
    'Si el socio perdió o cambió el teléfono, elimine sus llaves de acceso: nadie podrá ingresar con ellas. El socio sigue ingresando con su documento y contraseña, y puede crear llaves nuevas desde «Mi cuenta».',
  passkeysSubmit: 'Eliminar todas sus llaves de acceso',
  passkeysRemoved: (n: number) =>
    n === 1 ? 'Eliminamos 1 llave de acceso.' : `Eliminamos ${n} llaves de acceso.`,
  contactTitle: 'Cambiar email o celular',
  contactLead:
    'Avisamos al socio en el dato anterior y en el nuevo. Use un dato que el socio le confirme en persona.',
  contactKindLegend: 'Dato a cambiar',
  contactKinds: { email: 'Email', mobile: 'Celular' },
  contactValueLabel: 'Nuevo email o celular',
  contactValueHint: 'Email como nombre@ejemplo.com; celular como 099 123 456.',
  reasonLabel: 'Motivo del cambio',
  reasonHint: 'Por ejemplo: «cambió de número», «el email registrado tenía un error».',
  contactSubmit: 'Guardar el cambio',
  contactKindRequired: 'Elija qué dato quiere cambiar: email o celular.',
  emailValueRequired: 'Escriba el nuevo email.',
  mobileValueRequired: 'Escriba el nuevo número de celular.',
  emailValueInvalid: 'Revise el email: debe tener la forma nombre@ejemplo.com.',
  mobileValueInvalid: 'Escriba un celular uruguayo, por ejemplo 099 123 456.',
  contactUnchanged: 'Ese dato ya es el que tiene registrado.',
  reasonRequired: 'Escriba el motivo del cambio.',
  contactChanged: (kind: string) =>
    `Guardamos el nuevo ${kind} y avisamos al socio en el dato anterior y en el nuevo.`,
  timelineLink: 'Ver el historial del socio',
  // The printed slip.
  slipTitle: 'Código de activación',
  slipFor: (holder: string) => `Para ${holder}`,
  slipHow: 'Cómo usarlo',
  slipSteps: (url: string) => [
    `Entre a ${url} (en la página de ingreso, elija «Tengo un código de activación»).`,
    'Escriba su N° de documento y este código.',
    'Elija su nueva contraseña.',
  ],
  slipExpires: (when: string) => `Vale hasta el ${when} (hora de Uruguay) y sirve una sola vez.`,
  slipNotShared: 'No comparta este código: quien lo tenga puede crear la contraseña de su cuenta.',
  slipHelp: (callCenter: string) => `¿Dudas? CALL\u00a0CENTER\u00a0${callCenter}`,
  printButton: 'Imprimir',
  printShownOnce:
    'El código se muestra solo ahora. Si la hoja se pierde, genere uno nuevo: el anterior deja de valer.',
  backToMember: 'Volver a la ficha del socio',
  // The member's timeline.
  timelineTitle: (name: string) => `Historial de ${name}`,
  timelineLead: (n: number) =>
    `Los eventos de seguridad de la cuenta (hasta los últimos ${n}), del más reciente al más antiguo.`,
  timelineEmpty: 'Todavía no hay eventos registrados para este socio.',
  timelineCaption: 'Eventos de la cuenta',
  columns: {
    when: 'Fecha y hora',
    event: 'Evento',
    channel: 'Canal',
    who: 'Quién',
    outcome: 'Resultado',
  },
  channels: { web: 'Web', api: 'App', desk: 'Mesa', email: 'Email', sms: 'SMS' } as Record<
    string,
    string
  >,
  actors: { member: 'El socio', system: 'Sistema', anonymous: 'Sin identificar' } as Record<
    string,
    string
  >,
  staffActor: (name: string) => `Personal: ${name}`,
  outcomes: {
    ok: 'Correcto',
    failed: 'Fallido',
    refused: 'Rechazado',
    ignored: 'Sin envío',
  } as Record<string, string>,
  eventTypes: {
    login: 'Ingreso',
    logout: 'Salida',
    session_expired: 'Sesión vencida',
    throttled: 'Pausa por intentos',
    link_sent: 'Link enviado',
    code_sent: 'Código enviado',
    code_verified: 'Código ingresado',
    password_set: 'Contraseña creada o cambiada',
    password_rehashed: 'Contraseña protegida de nuevo',
    contact_changed: 'Datos de contacto cambiados',
    session_closed: 'Sesión cerrada',
    staff_action: 'Gestión en la mesa',
  } as Record<string, string>,
} as const;

/**
 * The desk's pages for supervisors and admins (issue 13): the staff audit and
 * the staff accounts. `actions` names every staff_action of the audit
 * (detail.action), also for the member's timeline at the desk.
 */
export const deskStaff = {
  // The links on the desk's home.
  linksTitle: 'Supervisión',
  auditLink: 'Auditoría del personal',
  staffLink: 'Personal de la mesa',
  backHome: 'Volver a la mesa',
  /** What each staff_action records, in a line (detail.action). */
  actions: {
    staff_login: 'Ingresó a la mesa',
    staff_logout: 'Cerró su sesión',
    staff_enrolled: 'Completó su alta',
    staff_created: 'Creó una cuenta del personal',
    staff_disabled: 'Desactivó una cuenta del personal',
    staff_enabled: 'Reactivó una cuenta del personal',
    staff_factor_reset: 'Restableció el segundo factor de una cuenta',
    member_viewed: 'Consultó la ficha del socio',
    identity_checked: 'Verificó la identidad',
    contact_updated: 'Actualizó un dato de contacto',
    activation_sent: 'Envió un enlace o código de activación',
    activation_code_printed: 'Imprimió un código de activación',
    member_unlocked: 'Desbloqueó la cuenta del socio',
    passkeys_removed: 'Eliminó las llaves de acceso del socio',
    timeline_viewed: 'Consultó la actividad del socio',
  } as Record<string, string>,
  /** An action this version does not name. */
  otherAction: 'Otra acción',
  /** A failed desk login names nobody: whoever tried did not prove who they were. */
  failedLogin: 'Intento de ingreso fallido',
  unknownEmployee: 'Sin identificar',
  /** An operator command (npm run staff:create) as the one who acted. */
  operator: 'Operador del sistema',
  /** "Cuenta: Ana Pérez" under an action on a staff account. */
  targetAccount: (name: string) => `Cuenta: ${name}`,
  contactKinds: { email: 'email', mobile: 'celular' } as Record<string, string>,
  /** "Dato: email" under contact_updated. */
  contactKind: (kind: string) => `Dato: ${kind}`,
  via: { email: 'Por email', sms: 'Por SMS' } as Record<string, string>,
  notSent: 'No enviado',
  documentKinds: { cedula: 'Cédula', pasaporte: 'Pasaporte', otro: 'Otro documento' },
  outcomes: {
    ok: 'Hecho',
    failed: 'Fallido',
    refused: 'Rechazado',
    ignored: 'Sin efecto',
  } as Record<string, string>,
  // The staff audit.
  auditTitle: 'Auditoría del personal',
  auditLead:
    'Lo que hizo el personal en la mesa, de lo más reciente a lo más antiguo. Las horas son de Uruguay.',
  filterTitle: 'Filtrar',
  employeeLabel: 'Empleado',
  allEmployees: 'Todo el personal',
  fromLabel: 'Desde el día',
  toLabel: 'Hasta el día',
  filter: 'Filtrar',
  clearFilters: 'Quitar los filtros',
  filterProblems: 'Revise los filtros marcados.',
  employeeInvalid: 'Elija un empleado de la lista.',
  dateInvalid: 'Escriba una fecha válida, por ejemplo 25/11/2026.',
  rangeInvalid: 'El día «Hasta» no puede ser anterior al día «Desde».',
  pageInvalid: 'Esa página de la auditoría no existe.',
  auditCaption: 'Acciones del personal',
  /** "Página 2": where the table stands. */
  pageNumber: (page: number) => `Página ${page}`,
  columns: {
    time: 'Fecha y hora',
    employee: 'Empleado',
    role: 'Rol',
    action: 'Acción',
    member: 'N° de socio',
    identity: 'Identidad verificada con',
    address: 'Dirección IP',
    outcome: 'Resultado',
  },
  noEvents: 'No hay acciones del personal con estos filtros.',
  pagesLabel: 'Páginas de la auditoría',
  newer: 'Más recientes',
  older: 'Más antiguas',
  // The staff accounts.
  staffTitle: 'Personal de la mesa',
  staffLead:
    'Las cuentas del personal de la mesa. Al desactivar una cuenta, sus sesiones se cierran en el momento.',
  staffListTitle: 'Cuentas',
  you: 'Usted',
  emailLabel: 'Email',
  roleLabel: 'Rol',
  statusLabel: 'Estado',
  enrolmentLabel: 'Alta',
  statuses: { active: 'Activa', disabled: 'Desactivada' },
  enrolled: 'Completa',
  notEnrolled: 'Pendiente',
  disable: 'Desactivar',
  enable: 'Reactivar',
  resetFactor: 'Restablecer el segundo factor',
  newLink: 'Generar un link de alta nuevo',
  /** Accessible names of the buttons of one account. */
  disableLabel: (name: string) => `Desactivar la cuenta de ${name}`,
  enableLabel: (name: string) => `Reactivar la cuenta de ${name}`,
  resetFactorLabel: (name: string) => `Restablecer el segundo factor de ${name}`,
  newLinkLabel: (name: string) => `Generar un link de alta nuevo para ${name}`,
  actionsLabel: (name: string) => `Acciones sobre la cuenta de ${name}`,
  createTitle: 'Nueva cuenta',
  createLead:
    'La persona recibe un link de alta para elegir su contraseña y configurar su aplicación de autenticación.',
  nameLabel: 'Nombre y apellido',
  newEmailLabel: 'Email de trabajo',
  roleHints: {
    desk: 'Busca socios y los atiende.',
    supervisor: 'Además, ve la auditoría del personal.',
    admin: 'Además, crea, desactiva y reactiva cuentas del personal.',
  },
  create: 'Crear la cuenta',
  // Refusals.
  fixFields: 'Revise los datos marcados.',
  emailInvalid: 'Escriba un email válido, por ejemplo nombre@ejemplo.com.uy.',
  emailTaken: 'Ya hay una cuenta del personal con ese email.',
  nameInvalid: 'Escriba el nombre y apellido, de 1 a 80 caracteres.',
  roleInvalid: 'Elija el rol de la cuenta.',
  staffNotFound: 'No encontramos esa cuenta del personal. Puede que la lista haya cambiado.',
  selfDisable:
    'No puede desactivar su propia cuenta. Si hace falta, pídaselo a otro administrador.',
  selfReset:
    'No puede restablecer su propio segundo factor. Pídaselo a otro administrador, o ingrese con uno de sus códigos de recuperación.',
  lastAdmin:
    'Es la única cuenta de administración activa y no se puede desactivar. Primero cree o reactive otra cuenta de administración.',
  resetDisabled: 'La cuenta está desactivada. Reactívela antes de generar un link de alta.',
  // Confirmations.
  confirmDisableTitle: 'Desactivar una cuenta',
  confirmDisable: (name: string) =>
    `¿Desactivar la cuenta de ${name}? No podrá ingresar a la mesa y sus sesiones abiertas se cerrarán ahora. Podrá reactivarla después.`,
  confirmResetTitle: 'Restablecer el segundo factor',
  confirmReset: (name: string) =>
    `¿Restablecer el segundo factor de ${name}? Su contraseña, su aplicación de autenticación y sus códigos de recuperación dejarán de servir, sus sesiones se cerrarán, y recibirá un link de alta nuevo para configurarlos otra vez.`,
  confirmDisableButton: 'Sí, desactivar',
  confirmResetButton: 'Sí, restablecer',
  cancel: 'No, volver al personal',
  // Done.
  disabledDone: (name: string) =>
    `La cuenta de ${name} quedó desactivada y sus sesiones se cerraron.`,
  enabledDone: (name: string) => `La cuenta de ${name} quedó activa otra vez.`,
  createdTitle: 'Cuenta creada',
  createdLead: (name: string) => `La cuenta de ${name} fue creada. Falta que complete su alta.`,
  resetTitle: 'Link de alta nuevo',
  resetLead: (name: string) =>
    `El segundo factor de ${name} fue restablecido y sus sesiones se cerraron. Falta que complete su alta otra vez.`,
  linkTitle: 'Link de alta',
  linkHandOver: (when: string) =>
    `Entregue este link solo a esa persona, en mano o por un medio seguro. Vence el ${when} y sirve una sola vez.`,
  linkWarning:
    'Quien abra el link elige la contraseña y el segundo factor de la cuenta. No se volverá a mostrar: si se pierde, genere uno nuevo desde esta página.',
  backToStaff: 'Volver al personal',
} as const;
