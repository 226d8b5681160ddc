import { applyDecorators, Param, PipeTransform } from '@nestjs/common';
import { ApiParam, ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const REQUIRED = IsDefined({ message: 'missing field $property' });
import { NAME_PATTERN, NAME_RULE, NIC_PATTERN, NIC_RULE, NODE_PATTERN, NODE_RULE } from '../validation/names';
import { ValidationFailedError } from './validation';

/**
 * What Swagger UI and the document show as the example of a field, by its name: values a user would type, not
 * strings generated from the pattern.
 */
const EXAMPLES: Record<string, string> = {
  project: 'proj1',
  dest_project: 'proj2',
  target_project: 'proj2',
  filter_project: 'proj1',
  img: 'centos7',
  image: 'centos7',
  parent: 'centos7',
  source: 'centos7',
  filter_name: 'centos7',
  filter_ceph: '5img1',
  new_name: 'centos7-copy',
  disk: 'web1',
  disk_name: 'web1',
  snap: 'base',
  snapshot: 'base',
  snap_name: 'web1-snap',
  name: 'web1',
  node: 'node-01',
  nic: 'eth0',
  user: 'alice',
};

/** Documents a field with its example: the one given, or the one of its name. */
function documented(optional: boolean, options: ApiPropertyOptions, example?: string): PropertyDecorator {
  return (target, key) => {
    const value = example ?? (typeof key === 'string' ? EXAMPLES[key] : undefined);
    (optional ? ApiPropertyOptional : ApiProperty)({ ...options, example: value } as ApiPropertyOptions)(target, key);
  };
}

/** A required name field: a project, image, disk or snapshot name (see common/validation/names.ts). */
export function NameField(description: string, example?: string): PropertyDecorator {
  return applyDecorators(
    documented(false, { description, pattern: NAME_PATTERN.source, maxLength: 64 }, example),
    REQUIRED,
    IsString(),
    IsNotEmpty(),
    MaxLength(64),
    Matches(NAME_PATTERN, { message: `$property must be ${NAME_RULE}` }),
  );
}

export function OptionalNameField(description: string, example?: string): PropertyDecorator {
  return applyDecorators(
    documented(true, { description, pattern: NAME_PATTERN.source, maxLength: 64 }, example),
    Transform(({ value }) => (value === '' ? undefined : value)),
    IsOptional(),
    IsString(),
    MaxLength(64),
    Matches(NAME_PATTERN, { message: `$property must be ${NAME_RULE}` }),
  );
}

export function NodeField(description: string): PropertyDecorator {
  return applyDecorators(
    documented(false, { description, pattern: NODE_PATTERN.source, maxLength: 64 }),
    REQUIRED,
    IsString(),
    IsNotEmpty(),
    MaxLength(64),
    Matches(NODE_PATTERN, { message: `$property must be ${NODE_RULE}` }),
  );
}

export function NicField(description: string, optional = false): PropertyDecorator {
  const common = [IsString(), MaxLength(32), Matches(NIC_PATTERN, { message: `$property must be ${NIC_RULE}` })];
  return optional
    ? applyDecorators(
        documented(true, { description, pattern: NIC_PATTERN.source, maxLength: 32 }),
        Transform(({ value }) => (value === '' ? undefined : value)),
        IsOptional(),
        ...common,
      )
    : applyDecorators(
        documented(false, { description, pattern: NIC_PATTERN.source, maxLength: 32 }),
        REQUIRED,
        IsNotEmpty(),
        ...common,
      );
}

/** An optional flag; form fields arrive as text, so "true", "1", "yes" and "on" count as true. */
export function FlagField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, type: Boolean }),
    Transform(({ value }) => {
      if (typeof value !== 'string') return value;
      if (/^(true|1|yes|on)$/i.test(value)) return true;
      if (/^(false|0|no|off|)$/i.test(value)) return false;
      return value;
    }),
    IsOptional(),
    IsBoolean(),
  );
}

/** An optional whole number written in digits only (form bodies send text; `1e2` or `0x10` are refused). */
export function WholeNumberField(description: string, min: number, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, type: Number, minimum: min, maximum: max }),
    Transform(({ value }) =>
      typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value === '' ? undefined : value,
    ),
    IsOptional(),
    IsInt(),
    Min(min),
    Max(max),
  );
}

/** An optional explicit row id. */
export function IdField(description: string): PropertyDecorator {
  return WholeNumberField(description, 1, 2 ** 31 - 1);
}

/** Every request of the original API names the project it acts in. */
export class ProjectScopedDto {
  @NameField('the project the operation acts in; the caller must have access to it in HIL')
  project: string;
}

/**
 * A name in the path of a /v1 route (`/v1/projects/:project/disks/:disk`), checked as the body's name fields
 * are: a malformed one is a 400 naming the parameter, before it reaches a lookup, a file path or an RBD name.
 */
export function PathName(param: string, kind: 'name' | 'node' | 'nic' = 'name'): ParameterDecorator {
  const [pattern, rule] =
    kind === 'node' ? [NODE_PATTERN, NODE_RULE] : kind === 'nic' ? [NIC_PATTERN, NIC_RULE] : [NAME_PATTERN, NAME_RULE];
  const pipe: PipeTransform<unknown, string> = {
    transform: (value: unknown) => {
      if (typeof value === 'string' && pattern.test(value) && value !== '.' && value !== '..') return value;
      throw new ValidationFailedError({ [param]: `${param} must be ${rule}` });
    },
  };
  const documented = ApiParam({
    name: param,
    schema: { type: 'string', pattern: pattern.source, maxLength: 64, example: EXAMPLES[param] },
  });
  return (target, key, index) => {
    Param(param, pipe)(target, key, index);
    // the method's document entry: Swagger's decorators are method decorators
    if (key !== undefined) documented(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
