import { ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { BadRequestError } from '../errors/domain-error';

/**
 * A body, query or path parameter that failed validation: the message lists every problem (the text the
 * original API answers with), `details.fields` maps each field, dotted for nested ones, to its problem.
 */
export class ValidationFailedError extends BadRequestError {
  constructor(readonly fields: Record<string, string>) {
    super(Object.values(fields).join('; '), { details: { fields } });
  }
}

function problems(errors: ValidationError[], parent = '', out: Record<string, string> = {}): Record<string, string> {
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const messages = Object.values(e.constraints ?? {});
    if (messages.length) out[field] = parent ? `${parent}.${messages.join('; ')}` : messages.join('; ');
    if (e.children?.length) problems(e.children, field, out);
  }
  return out;
}

/** How every request body is validated: unknown fields dropped, values converted to the DTO's types. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  transform: true,
  stopAtFirstError: true,
  forbidUnknownValues: false,
  exceptionFactory: (errors) => new ValidationFailedError(problems(errors)),
};

export function validationPipe(): ValidationPipe {
  return new ValidationPipe(VALIDATION_OPTIONS);
}
