// The ALTCHA widget's "external" build brings no proof-of-work code of its
// own: its PBKDF2 worker is a file of ours, so the page needs no blob:
// worker and no inline style (see docs/decisions/005-altcha-captcha.md).
const altcha = globalThis.$altcha;
if (altcha) {
  for (const algorithm of ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512']) {
    altcha.algorithms.set(algorithm, () => new Worker('/assets/altcha/pbkdf2.js'));
  }
}
