import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { FlagField, NameField, NicField, NodeField, ProjectScopedDto } from '../../../common/http/fields';
import { MAC_PATTERN } from '../../../common/validation/names';

const REQUIRED = IsDefined({ message: 'missing field $property' });

/** A required password field; its value is never echoed back in a message. */
export function PasswordField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ description, format: 'password', minLength: 1, maxLength: 256, writeOnly: true }),
    REQUIRED,
    IsString({ message: '$property must be a string' }),
    IsNotEmpty({ message: '$property must not be empty' }),
    MaxLength(256, { message: '$property must be at most 256 characters' }),
  );
}

/** A required MAC address, any case (stored lower-cased). */
export function MacField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ description, pattern: MAC_PATTERN.source, example: '52:54:00:12:34:56' }),
    REQUIRED,
    IsString(),
    IsNotEmpty(),
    MaxLength(17, { message: '$property must be a MAC address such as 52:54:00:12:34:56' }),
    Matches(MAC_PATTERN, { message: '$property must be a MAC address such as 52:54:00:12:34:56' }),
  );
}

export class ListUsersDto extends ProjectScopedDto {}

export class CreateUserDto extends ProjectScopedDto {
  @NameField('name of the new user')
  user: string;

  @PasswordField('password of the new user (only its scrypt hash is kept)')
  password: string;

  @FlagField('the new user is an admin (default false)')
  is_admin?: boolean;
}

export class DeleteUserDto extends ProjectScopedDto {
  @NameField('the user to delete')
  user: string;
}

export class ChangePasswordDto extends ProjectScopedDto {
  @NameField('the user whose password changes: the caller, or anyone when the caller is an admin')
  user: string;

  @PasswordField('the new password')
  new_password: string;
}

export class UserProjectDto extends ProjectScopedDto {
  @NameField('the user')
  user: string;

  @NameField('the BMI project the user joins or leaves')
  target_project: string;
}

export class ListNodesDto extends ProjectScopedDto {}

export class NodeNameDto extends ProjectScopedDto {
  @NodeField('node name')
  node: string;
}

export class AddNicDto extends ProjectScopedDto {
  @NodeField('the node')
  node: string;

  @NicField('label of the new NIC, unique on the node')
  nic: string;

  @MacField('MAC address of the NIC, any case; stored lower-cased and unique across nodes')
  macaddr: string;
}

export class RemoveNicDto extends ProjectScopedDto {
  @NodeField('the node')
  node: string;

  @NicField('label of the NIC to remove')
  nic: string;
}

export class ConnectNodeDto extends ProjectScopedDto {
  @NodeField('a free node')
  node: string;

  @NameField('the BMI project the node is given to')
  target_project: string;
}

export class UserRowDto {
  name: string;
  isAdmin: boolean;
  /** the projects the user is a member of, sorted */
  projects: string[];
}

export class NicRowDto {
  label: string;
  /** lower-cased */
  macaddr: string;
}

export class NodeRowDto {
  name: string;
  /** the owning project; null when the node is free */
  @ApiProperty({ type: String, nullable: true })
  project: string | null;
  /** in registration order */
  nics: NicRowDto[];
}
