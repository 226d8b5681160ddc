import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { FlagField, NameField, NicField, NodeField } from '../../../common/http/fields';
import { PageOf } from '../../../common/http/resources';
import { MacField, PasswordField } from './standalone.dto';

@ApiSchema({ name: 'User' })
export class UserDto {
  @ApiProperty({ example: 'alice' }) name: string;
  @ApiProperty({ example: false }) admin: boolean;
  @ApiProperty({ example: ['proj1'], description: 'the projects the user is a member of, sorted' })
  projects: string[];
}
export const UserPageDto = PageOf(UserDto, 'UserPage');

@ApiSchema({ name: 'NewUser' })
export class NewUserDto {
  @NameField('name of the new user', 'alice') name: string;
  @PasswordField('password of the new user (only its scrypt hash is kept)') password: string;
  @FlagField('the new user is an admin (default false)') admin?: boolean;
}

@ApiSchema({ name: 'NewPassword' })
export class NewPasswordDto {
  @PasswordField('the new password') password: string;
}

@ApiSchema({ name: 'Nic' })
export class NicDto {
  @ApiProperty({ example: 'eth0' }) label: string;
  @ApiProperty({ example: '52:54:00:12:34:56', description: 'lower-cased' }) mac: string;
}

@ApiSchema({ name: 'Node' })
export class NodeDto {
  @ApiProperty({ example: 'node-01' }) name: string;
  @ApiProperty({ type: String, nullable: true, example: 'proj1', description: 'its project; null when free' })
  project: string | null;
  @ApiProperty({ type: [NicDto], description: 'in registration order' }) nics: NicDto[];
}
export const NodePageDto = PageOf(NodeDto, 'NodePage');

@ApiSchema({ name: 'NodeBmc' })
export class NodeBmcDto {
  @ApiProperty({ example: '10.1.0.21', description: "the BMC's address (ipmitool -H)", maxLength: 253 })
  @IsDefined({ message: 'missing field $property' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$/, { message: '$property must be a host name or an IP address' })
  address: string;
  @ApiPropertyOptional({ example: 'ADMIN', description: 'the BMC account (default: [power] ipmi_user)', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  username?: string;
  @ApiPropertyOptional({
    description: "the account's password (default: [power] ipmi_password); never shown",
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  password?: string;
}

@ApiSchema({ name: 'NewNode' })
export class NewNodeDto {
  @NodeField('name of the new node') name: string;
}

@ApiSchema({ name: 'NewNic' })
export class NewNicDto {
  @NicField('label of the new NIC, unique on the node') label: string;
  @MacField('its MAC address, any case; unique across nodes') mac: string;
}

@ApiSchema({ name: 'NodeProject' })
export class NodeProjectDto {
  @NameField('the project the free node is given to', 'proj1') project: string;
}
