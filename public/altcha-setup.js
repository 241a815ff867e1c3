// After the ALTCHA widget (its "external" build, ADR 005), in the same file:
// its PBKDF2 worker is a file of ours, so the page needs no blob: worker and
// no inline style; and its texts in the portal's Spanish ("usted"), whole,
// so no other language file is fetched. The label stays the manual's
// "No soy un robot". The server writes the worker's address in place of
// PBKDF2_WORKER_URL when it builds the file (src/site/site.ts).
{
  const altcha = globalThis.$altcha;
  if (altcha) {
    for (const algorithm of ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512']) {
      altcha.algorithms.set(algorithm, () => new Worker('PBKDF2_WORKER_URL'));
    }
    altcha.i18n.set('es-uy', {
      ariaLinkLabel: 'Altcha (sitio oficial)',
      cancel: 'Cancelar',
      enterCode: 'Ingrese el código',
      enterCodeAria: 'Ingrese el código que escucha. Presione Espacio para escuchar el audio.',
      enterCodeFromImage: 'Para continuar, ingrese el código de la imagen.',
      error: 'No pudimos verificar. Marque de nuevo la casilla o intente en unos minutos.',
      expired: 'La verificación venció. Marque de nuevo la casilla «No soy un robot».',
      footer: '',
      getAudioChallenge: 'Escuchar el código',
      label: 'No soy un robot',
      loading: 'Cargando…',
      reload: 'Volver a cargar',
      verify: 'Verificar',
      verificationRequired: 'Marque la casilla «No soy un robot».',
      verified: 'Verificado',
      verifying: 'Verificando…',
      waitAlert: 'Verificando… Espere un momento, por favor.',
    });
  }
}
