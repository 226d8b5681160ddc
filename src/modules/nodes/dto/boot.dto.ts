import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, Matches } from 'class-validator';

/** A MAC as iPXE writes it (`${netX/mac}`: colons) or as file names have it (`:hexhyp`: dashes), any case. */
export const BOOT_MAC_PATTERN = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/;

export class BootScriptQueryDto {
  @ApiProperty({
    description: 'the MAC the node boots from',
    example: '52:54:00:12:34:56',
    pattern: BOOT_MAC_PATTERN.source,
  })
  @IsDefined({ message: 'missing field $property' })
  @IsString()
  @Matches(BOOT_MAC_PATTERN, { message: '$property must be a MAC address such as 52:54:00:12:34:56' })
  mac: string;
}
