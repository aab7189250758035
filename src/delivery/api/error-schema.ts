// The one error body every route answers with: {code, message} (src/errors.ts lists the codes).
import { ERROR_CODES } from '../../errors.js';

export const errorBodySchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    message: { type: 'string' },
  },
} as const;
