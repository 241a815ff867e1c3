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

export const E2E_MEMBERS: E2eMember[] = [
  ...Object.values(REGISTRATION_MEMBERS),
  ...Object.values(SMS_RECOVERY_MEMBERS),
];

/** The members of the running project (its name is 'phone' or 'desktop'). */
export function memberFor(members: Record<ProjectName, E2eMember>, project: string): E2eMember {
  if (project !== 'phone' && project !== 'desktop')
    throw new Error(`no e2e member for the project "${project}"`);
  return members[project];
}
