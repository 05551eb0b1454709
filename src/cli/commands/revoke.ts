import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, jsonFlag, storeFlags, storeOptions, stringFlag, usageError } from '../flags.js';
import { withStore } from '../open.js';

export const revoke: Command = {
  name: 'revoke',
  summary: 'delete a session everywhere (by id, --key), or all of a user (--user FIELD)',
  usage: 'ID | --key KEY | --user FIELD [options]',
  description: [
    "Deletes a session on every server of --db, and other processes' caches drop it: by session id, by stored key (--key, as ids() and the table show it), or every session whose custom field (setField) is FIELD (--user: signs a user out everywhere). Exit code 0 whether or not there was such a session: afterwards there is none; the output and --json say how many were deleted.",
  ].join('\n\n'),
  flags: {
    key: { type: 'string', value: 'KEY', description: 'the stored key of the session' },
    user: {
      type: 'string',
      value: 'FIELD',
      description: "every session whose custom field is FIELD (the application's setField)",
    },
    ...storeFlags,
    ...jsonFlag,
    ...helpFlag,
  },
  examples: ['session-pgsql revoke --user alice@example.com'],
  async run(parsed, { out, env }) {
    const key = stringFlag(parsed, 'key');
    const user = stringFlag(parsed, 'user');
    const ids = parsed.positionals;
    if (
      ids.length + (key === undefined ? 0 : 1) + (user === undefined ? 0 : 1) !== 1 ||
      ids.length > 1
    )
      throw usageError('revoke takes one of: ID, --key KEY, --user FIELD');
    const revoked = await withStore(storeOptions(parsed, env), async (store) => {
      if (user !== undefined) return store.revokeUser(user);
      if (key !== undefined) return (await store.revokeByKey(key)) ? 1 : 0;
      return (await store.revoke(ids[0] as string)) ? 1 : 0;
    });
    const what = user !== undefined ? ' of that user' : '';
    out.line(
      revoked === 0
        ? `no session${what} found: nothing to revoke`
        : `revoked ${revoked} session${revoked === 1 ? '' : 's'}${what}`,
    );
    out.result({ revoked });
    return ExitCodes.OK;
  },
};
