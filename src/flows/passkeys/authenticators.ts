// Names of the passkey providers members most often use, by the AAGUID their
// authenticator reports: a passkey in the list reads "Gestor de contraseñas
// de Google" rather than an id. From the community list of passkey
// provider AAGUIDs (passkeydeveloper/passkey-authenticator-aaguids); any
// other one is named by the browser and system it was created on.
import { passkeys } from '../../messages/es.ts';

const KNOWN: Readonly<Record<string, string>> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': passkeys.providers.google,
  'adce0002-35bc-c60a-648b-0b25f1f05503': passkeys.providers.chromeMac,
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': passkeys.providers.icloud,
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': passkeys.providers.icloud,
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  'b84e4048-15dc-4dd0-8640-f4f60813c8af': 'NordPass',
  '0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6': 'Keeper',
};

/** The provider's name for an AAGUID, or null (unknown, or the all-zero "none"). */
export function authenticatorName(aaguid: string): string | null {
  return KNOWN[aaguid.toLowerCase()] ?? null;
}
