import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTargetShow, TgtShowParseError } from './tgt-show.parser';

/** Outputs captured from a real tgtd (tgt 1.0.85) by test/fixtures/tgt/capture.sh. */
const fixture = (name: string) => readFileSync(path.resolve(__dirname, '../../../../test/fixtures/tgt', name), 'utf8');

describe('parseTargetShow on real tgtadm --op show outputs', () => {
  it('no targets: empty output, empty list', () => {
    expect(fixture('show-empty.txt')).toBe('');
    expect(parseTargetShow(fixture('show-empty.txt'))).toEqual([]);
  });

  it('one target as BMI makes it: tid, IQN, the controller LUN 0 and LUN 1 on the RBD clone, ACL ALL', () => {
    expect(parseTargetShow(fixture('show-one-rbd.txt'))).toEqual([
      {
        tid: 1,
        name: 'iqn.2026-11.org.bmi:5img11',
        driver: 'iscsi',
        state: 'ready',
        luns: [
          { lun: 0, type: 'controller', backingStoreType: 'null', backingStorePath: null },
          { lun: 1, type: 'disk', backingStoreType: 'rbd', backingStorePath: 'bmi/5img11' },
        ],
        acl: ['ALL'],
        accounts: [],
        sessions: [],
      },
    ]);
  });

  it('several targets: gaps in tids, a half-made one, an ACL of addresses and names, a logged-in initiator, an account', () => {
    const targets = parseTargetShow(fixture('show-mixed.txt'));
    expect(targets.map((t) => [t.tid, t.name])).toEqual([
      [1, 'iqn.2026-11.org.bmi:5img11'],
      [2, 'iqn.2026-11.org.bmi:half-made'],
      [4, '5img12'],
    ]);
    const [, half, bare] = targets;
    expect(half).toMatchObject({
      luns: [{ lun: 0, type: 'controller', backingStorePath: null }],
      acl: [],
      accounts: ['fixture-user'],
      sessions: [],
    });
    expect(bare.luns.map((l) => [l.lun, l.backingStoreType, l.backingStorePath])).toEqual([
      [0, 'null', null],
      [1, 'rbd', 'bmi/5img12'],
    ]);
    expect(bare.acl).toEqual(['10.0.2.15', '192.168.1.0/24', 'iqn.2026-11.org.bmi:5img12:initiator']);
    expect(bare.sessions).toEqual([
      { nexus: 2, initiator: 'iqn.2026-11.org.bmi:5img12:initiator', addresses: ['127.0.0.1'] },
    ]);
  });

  it('reads CRLF line ends the same', () => {
    const text = fixture('show-one-rbd.txt');
    expect(parseTargetShow(text.replace(/\n/g, '\r\n'))).toEqual(parseTargetShow(text));
  });

  it.each([
    ['text before the first target', 'tgtadm: something\nTarget 1: a\n', 1],
    ['a header that is not a target', 'Targets: 1\n', 1],
    ['an unknown section', 'Target 1: a\n    Mystery information:\n', 2],
    ['a LUN detail outside a LUN', 'Target 1: a\n    LUN information:\n            Type: disk\n', 3],
    ['a malformed LUN line', 'Target 1: a\n    LUN information:\n        LUN: one\n', 3],
    ['an ACL entry nested too deep', 'Target 1: a\n    ACL information:\n            ALL\n', 3],
  ])('refuses %s, naming the line', (_, text, line) => {
    let error: unknown;
    try {
      parseTargetShow(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TgtShowParseError);
    expect((error as TgtShowParseError).lineNumber).toBe(line);
  });
});
