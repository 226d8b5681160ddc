import { ValidationPipe, ValidationPipeOptions } from '@nestjs/common';

/** How every request body is validated: unknown fields dropped, values converted to the DTO's types. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  transform: true,
  stopAtFirstError: true,
  forbidUnknownValues: false,
};

export function validationPipe(): ValidationPipe {
  return new ValidationPipe(VALIDATION_OPTIONS);
}
