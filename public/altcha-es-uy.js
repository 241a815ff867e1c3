// The ALTCHA widget in the portal's Spanish: the widget's Latin American
// texts (es-419), with the messages a member may read put in the "usted"
// the rest of the portal uses. The label stays the manual's "No soy un robot".
const altcha = globalThis.$altcha;
const base = altcha?.i18n.get('es-419');
if (base) {
  altcha.i18n.set('es-uy', {
    ...base,
    label: 'No soy un robot',
    verified: 'Verificado',
    verifying: 'Verificando…',
    waitAlert: 'Verificando… Espere un momento, por favor.',
    verificationRequired: 'Marque la casilla «No soy un robot».',
    expired: 'La verificación venció. Marque de nuevo la casilla «No soy un robot».',
    error: 'No pudimos verificar. Marque de nuevo la casilla o intente en unos minutos.',
    loading: 'Cargando…',
    reload: 'Volver a cargar',
    enterCode: 'Ingrese el código',
    enterCodeAria: 'Ingrese el código que escucha. Presione Espacio para escuchar el audio.',
    enterCodeFromImage: 'Para continuar, ingrese el código de la imagen.',
    getAudioChallenge: 'Escuchar el código',
  });
}
