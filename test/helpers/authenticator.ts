// A software passkey authenticator for the integration tests: what a phone's
// platform authenticator answers to navigator.credentials.create and .get,
// built by hand from the WebAuthn spec (P-256 / ES256 keys from node:crypto,
// "none" attestation, CBOR), so the server's checks run on real signatures.
// Each knob a test needs to play an attacker is an option: another origin or
// relying party, a counter of its choice, no user verification.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { encodeCBOR } from '@levischuck/tiny-cbor';

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface AnswerOptions {
  origin?: string;
  rpId?: string;
  /** User verified (fingerprint, face, PIN): true unless a test says otherwise. */
  userVerified?: boolean;
  /** The signature counter to report; the authenticator's own, moved on, by default. */
  counter?: number;
  /** The user handle to report (a login); the credential's own by default. */
  userHandle?: string | null;
}

export interface CreationOptionsJSON {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
}

export interface RequestOptionsJSON {
  challenge: string;
  rpId?: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  private counter: number;
  private userHandle = '';

  constructor(
    readonly origin: string,
    readonly rpId: string,
    /** Authenticators that keep no counter report 0 forever (most synced passkeys). */
    options: { startCounter?: number; aaguid?: string } = {},
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    this.publicJwk = { x: jwk.x, y: jwk.y };
    this.counter = options.startCounter ?? 0;
    this.aaguid = options.aaguid ?? '00000000-0000-0000-0000-000000000000';
  }

  readonly aaguid: string;

  get id(): string {
    return b64url(this.credentialId);
  }

  private flags(userVerified: boolean, attested: boolean): number {
    // UP, UV, BE + BS (a synced passkey), AT when a credential is attached.
    return 0x01 | (userVerified ? 0x04 : 0) | 0x08 | 0x10 | (attested ? 0x40 : 0);
  }

  private counterBytes(value: number): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value);
    return bytes;
  }

  /** The answer of navigator.credentials.create to these options. */
  register(options: CreationOptionsJSON, answer: AnswerOptions = {}) {
    this.userHandle = options.user.id;
    const clientData = Buffer.from(
      JSON.stringify({
        type: 'webauthn.create',
        challenge: options.challenge,
        origin: answer.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(this.publicJwk.x, 'base64url')],
      [-3, Buffer.from(this.publicJwk.y, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(answer.rpId ?? this.rpId),
      Buffer.from([this.flags(answer.userVerified ?? true, true)]),
      this.counterBytes(answer.counter ?? this.counter),
      Buffer.from(this.aaguid.replaceAll('-', ''), 'hex'),
      idLength,
      this.credentialId,
      Buffer.from(encodeCBOR(coseKey as never)),
    ]);
    const attestationObject = encodeCBOR(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(attestationObject),
        transports: ['internal' as const, 'hybrid' as const],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }

  /** The answer of navigator.credentials.get to these options. */
  authenticate(options: RequestOptionsJSON, answer: AnswerOptions = {}) {
    if (answer.counter === undefined && this.counter > 0) this.counter += 1;
    const counter = answer.counter ?? this.counter;
    const clientData = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: options.challenge,
        origin: answer.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
    const authData = Buffer.concat([
      sha256(answer.rpId ?? this.rpId),
      Buffer.from([this.flags(answer.userVerified ?? true, false)]),
      this.counterBytes(counter),
    ]);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientData)]),
      this.privateKey,
    );
    const handle = answer.userHandle === undefined ? this.userHandle : answer.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(handle ? { userHandle: handle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }
}
