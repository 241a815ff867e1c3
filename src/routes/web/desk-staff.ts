// The desk's pages for supervisors and admins: the staff audit and the
// management of staff accounts (in progress).
import type { FastifyInstance } from 'fastify';
import type { AppParts } from '../../deps.ts';

export function registerDeskStaffPages(_pages: FastifyInstance, _deps: AppParts): void {}
