// The registry rows the journeys need, besides the demo member the server
// creates. test/e2e/seed.ts imports them with `members:import` before the
// server starts. Each Playwright project gets its own members, so the phone
// and desktop journeys, running at once against one server, never read each
// other's codes nor share the real limit of 5 messages per member per hour.

export type ProjectName = 'phone' | 'desktop';

export interface E2eMember {
  document: string;
  memberNumber: string;
  firstName: string;
  lastName: string;
  email: string;
  mobile: string;
  /** The password the member already has (set by the seed); null: none yet. */
  password: string | null;
  /** The one the journey chooses: 6–10 letters and digits, with a digit, not common. */
  newPassword: string;
}

/** "¿No estás registrado?": in the registry, no password yet. */
export const REGISTRATION_MEMBERS: Record<ProjectName, E2eMember> = {
  phone: {
    document: '2345678',
    memberNumber: '200002',
    firstName: 'Juan',
    lastName: 'Gómez',
    email: 'juan.gomez@example.org',
    mobile: '+59899234567',
    password: null,
    newPassword: 'juan2026x',
  },
  desktop: {
    document: '2456789',
    memberNumber: '200003',
    firstName: 'Ana',
    lastName: 'Pérez',
    email: 'ana.perez@example.org',
    mobile: '+59899245678',
    password: null,
    newPassword: 'ana2026ok',
  },
};

/** "¿Olvidaste tu contraseña?" by SMS: a password they no longer remember. */
export const SMS_RECOVERY_MEMBERS: Record<ProjectName, E2eMember> = {
  phone: {
    document: '3456789',
    memberNumber: '200004',
    firstName: 'Rosa',
    lastName: 'Díaz',
    email: 'rosa.diaz@example.org',
    mobile: '+59899345678',
    password: 'rosa1950',
    newPassword: 'rosa2026b',
  },
  desktop: {
    document: '3567890',
    memberNumber: '200005',
    firstName: 'Pedro',
    lastName: 'Suárez',
    email: 'pedro.suarez@example.org',
    mobile: '+59899356789',
    password: 'pedro1960',
    newPassword: 'pedro2026c',
  },
};

/** The journeys of «Mi cuenta» (account.spec.ts): one fresh member each, so none sees another's sessions or messages. */
export type AccountJourney = 'sessions' | 'password' | 'contact' | 'email' | 'activity' | 'pages';

/** «Mi cuenta»: members who log in with the password they have and change things. */
export const ACCOUNT_MEMBERS: Record<ProjectName, Record<AccountJourney, E2eMember>> = {
  phone: {
    sessions: accountMember('4100011', '300011', 'Lucía', 'Rodríguez', 'lucia1971', 'lucia2026s'),
    password: accountMember('4100012', '300012', 'Carlos', 'Martínez', 'carlos1966', 'carlos26p'),
    contact: accountMember('4100013', '300013', 'Elena', 'Fernández', 'elena1958', 'elena2026c'),
    email: accountMember('4100016', '300016', 'Andrés', 'Pereira', 'andres1977', 'andres26e'),
    activity: accountMember('4100014', '300014', 'Jorge', 'López', 'jorge1980', 'jorge2026a'),
    pages: accountMember('4100015', '300015', 'Marta', 'García', 'marta1975', 'marta2026v'),
  },
  desktop: {
    sessions: accountMember('4200021', '300021', 'Diego', 'Sosa', 'diego1969', 'diego2026s'),
    password: accountMember('4200022', '300022', 'Laura', 'Benítez', 'laura1983', 'laura26pw'),
    contact: accountMember('4200023', '300023', 'Raúl', 'Silva', 'raul1955x', 'raul2026c'),
    email: accountMember('4200026', '300026', 'Valeria', 'Acosta', 'vale1988x', 'vale2026e'),
    activity: accountMember('4200024', '300024', 'Sofía', 'Castro', 'sofia1990', 'sofia2026a'),
    pages: accountMember('4200025', '300025', 'Pablo', 'Núñez', 'pablo1962', 'pablo2026v'),
  },
};

/** The new mobile each project's «Cambiar celular» journey proves (in no member's row). */
export const ACCOUNT_NEW_MOBILES: Record<ProjectName, string> = {
  phone: '+59898410777',
  desktop: '+59898420888',
};

/** A member of the «Mi cuenta» journeys; email and mobile follow from the document. */
function accountMember(
  document: string,
  memberNumber: string,
  firstName: string,
  lastName: string,
  password: string,
  newPassword: string,
): E2eMember {
  return {
    document,
    memberNumber,
    firstName,
    lastName,
    email: `socio.${document}@example.org`,
    mobile: `+598997${document.slice(-5)}`,
    password,
    newPassword,
  };
}

/** The branded server's journeys (brand.spec.ts): a password request by email. */
export const BRAND_MEMBERS: Record<ProjectName, E2eMember> = {
  phone: accountMember('4300031', '300031', 'Inés', 'Vázquez', 'ines1964x', 'ines2026b'),
  desktop: accountMember('4300032', '300032', 'Hugo', 'Méndez', 'hugo1959x', 'hugo2026b'),
};

/** The journeys of the offline page (offline.spec.ts): log in, out, and go back offline. */
export const OFFLINE_MEMBERS: Record<ProjectName, E2eMember> = {
  phone: accountMember('4400041', '300041', 'Rosa', 'Ibarra', 'rosa1957x', 'rosa2026o'),
  desktop: accountMember('4400042', '300042', 'Tomás', 'Olivera', 'tomas1961', 'tomas2026o'),
};

export const E2E_MEMBERS: E2eMember[] = [
  ...Object.values(REGISTRATION_MEMBERS),
  ...Object.values(SMS_RECOVERY_MEMBERS),
  ...Object.values(ACCOUNT_MEMBERS).flatMap((journeys) => Object.values(journeys)),
  ...Object.values(BRAND_MEMBERS),
  ...Object.values(OFFLINE_MEMBERS),
];

/** The members of the running project (its name is 'phone' or 'desktop'). */
export function memberFor(members: Record<ProjectName, E2eMember>, project: string): E2eMember {
  if (project !== 'phone' && project !== 'desktop')
    throw new Error(`no e2e member for the project "${project}"`);
  return members[project];
}

/**
 * The branch desk's journeys (desk.spec.ts): a member with no password yet,
 * who creates one with the activation code the desk prints.
 */
export const DESK_MEMBERS: Record<ProjectName, E2eMember> = {
  phone: {
    document: '4500051',
    memberNumber: '300051',
    firstName: 'Graciela',
    lastName: 'Ferreira',
    email: 'socio.4500051@example.org',
    mobile: '+59899700051',
    password: null,
    newPassword: 'grace26mc',
  },
  desktop: {
    document: '4500052',
    memberNumber: '300052',
    firstName: 'Héctor',
    lastName: 'Cabrera',
    email: 'socio.4500052@example.org',
    mobile: '+59899700052',
    password: null,
    newPassword: 'hector26m',
  },
};

E2E_MEMBERS.push(...Object.values(DESK_MEMBERS));

/** An employee of the branch desk, created by `npm run staff:create` before the server starts. */
export interface E2eStaff {
  email: string;
  name: string;
  /** The one the journey chooses at enrolment: 12 or more characters, without the name or email. */
  password: string;
}

/**
 * The desk's employees, one per project (so two journeys never share a
 * second factor, whose codes are good once), both admins so that the
 * journey also reaches the staff audit and the staff accounts.
 */
export const DESK_STAFF: Record<ProjectName, E2eStaff> = {
  phone: {
    email: 'carmen.mesa@example.org',
    name: 'Carmen Ruiz',
    password: 'mate amargo en la rambla 7',
  },
  desktop: {
    email: 'julio.mesa@example.org',
    name: 'Julio Techera',
    password: 'tortas fritas con lluvia 9',
  },
};

/**
 * Where test/e2e/seed.ts leaves the employees' enrolment links, by project
 * (JSON): inside the default portal's DATA_DIR (playwright.config.ts), which
 * each run starts without, so no link of an earlier run is ever read.
 */
export const DESK_ENROLMENT_FILE = '.tmp/e2e-data/e2e-desk-enrolment.json';

/**
 * The portal of the passkey journeys (passkeys.spec.ts): WebAuthn wants a
 * host name as its relying party, never an IP address, so this one's
 * PUBLIC_URL is http://localhost (a secure context) while the others'
 * 127.0.0.1 leaves passkeys off (playwright.config.ts).
 */
export const PASSKEYS_PORT = 3919;
export const PASSKEYS_URL = `http://localhost:${PASSKEYS_PORT}`;

/** The journeys of «Llaves de acceso» (passkeys.spec.ts): one member each, as account.spec.ts. */
export type PasskeyJourney = 'journey' | 'autofill' | 'cancel' | 'noScript' | 'off';

export const PASSKEY_MEMBERS: Record<ProjectName, Record<PasskeyJourney, E2eMember>> = {
  phone: {
    journey: accountMember('4600061', '300061', 'Noelia', 'Barrios', 'noelia1979', 'noelia26k'),
    autofill: accountMember('4600062', '300062', 'Walter', 'Cardozo', 'walter1968', 'walter26k'),
    cancel: accountMember('4600063', '300063', 'Alicia', 'Duarte', 'alicia1972', 'alicia26k'),
    noScript: accountMember('4600064', '300064', 'Ramón', 'Techera', 'ramon1965x', 'ramon26k'),
    off: accountMember('4600065', '300065', 'Silvia', 'Olivera', 'silvia1981', 'silvia26k'),
  },
  desktop: {
    journey: accountMember('4700071', '300071', 'Gustavo', 'Rivero', 'gustavo70', 'gusta26k'),
    autofill: accountMember('4700072', '300072', 'Mónica', 'Pintos', 'monica1974', 'monica26k'),
    cancel: accountMember('4700073', '300073', 'Fernando', 'Luna', 'fernando77', 'ferna26k'),
    noScript: accountMember('4700074', '300074', 'Claudia', 'Viera', 'claudia86', 'claud26k'),
    off: accountMember('4700075', '300075', 'Martín', 'Cabrera', 'martin1963', 'martin26k'),
  },
};

E2E_MEMBERS.push(...Object.values(PASSKEY_MEMBERS).flatMap((journeys) => Object.values(journeys)));
