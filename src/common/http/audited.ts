import { SetMetadata } from '@nestjs/common';

export const AUDITED = 'bmi:audited';

/**
 * Marks a route of the original's that changes something although it is a POST (they read with POST and
 * change with PUT and DELETE), so that it is audited like every other mutation.
 */
export const Audited = (): MethodDecorator => SetMetadata(AUDITED, true);
