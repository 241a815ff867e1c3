// JSON schemas shared by the API routes; they validate requests and feed
// the OpenAPI document at /api/openapi.json.
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error: a stable code, a Spanish message, and per-field messages.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'INVALID_CREDENTIALS' },
        message: { type: 'string' },
        fields: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['code', 'message', 'fields'],
    },
  },
  required: ['error'],
} as const;

export const memberSchema = {
  $id: 'Member',
  type: 'object',
  properties: {
    document: { type: 'string', example: '1234567' },
    memberNumber: { type: 'string', example: '100001' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
  },
  required: ['document', 'memberNumber', 'firstName', 'lastName'],
} as const;

export const errorRef = { $ref: 'Error#' } as const;
export const memberRef = { $ref: 'Member#' } as const;

export const bearerSecurity = [{ bearerAuth: [] }];

/** The device token a login answered, sent back by the app (ADR 016). */
export const deviceTokenProperty = {
  type: 'string',
  maxLength: 200,
  description:
    'The deviceToken of an earlier login of this member on this app: its tries spend a budget of their own, which tries from elsewhere cannot use up.',
} as const;

/** An answer that is one Spanish sentence. */
export const messageSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
} as const;
